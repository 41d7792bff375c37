import type { PageAnswer } from './authorize-page'
import { escapeHtml, page } from './authorize-page'
import type { Directory } from './directory'
import type { DeviceCodeStore } from './grant-device-code'

/**
 * `/devicelogin`, the `verification_uri` of device codes: enter the user code, then the username and password
 * (or cancel), as a person would in a browser. Tests use the control API (`emulator.deviceCodes`) instead;
 * this page is for the demo and for a person trying the emulator by hand.
 */
export function deviceLoginPage(method: string, form: URLSearchParams, directory: Directory, store: DeviceCodeStore): PageAnswer {
  if (method === 'GET') return { status: 200, html: codeForm(undefined) }
  const userCode = (form.get('otc') ?? '').trim().toUpperCase()
  const session = store.list().find((info) => info.userCode === userCode)
  if (session === undefined || session.status !== 'pending' || session.expiresAt <= Date.now()) {
    return { status: 200, html: codeForm("AADSTS70018: That code didn't work. Check the code and try again.") }
  }
  switch (form.get('action')) {
    case 'code':
      return { status: 200, html: signInForm(userCode, session.clientId, '', undefined) }
    case 'cancel':
      store.deny(userCode)
      return { status: 200, html: page('Sign-in cancelled', '<h1>Sign-in cancelled</h1><p>You declined to sign in to the application on your device.</p>') }
    case 'signin': {
      const username = form.get('login') ?? ''
      const user = directory.findUser(username)
      if (user === undefined || form.get('passwd') !== user.password) {
        return { status: 200, html: signInForm(userCode, session.clientId, username, 'AADSTS50126: Your account or password is incorrect.') }
      }
      try {
        store.approve(userCode, user.username)
      } catch {
        return {
          status: 200,
          html: signInForm(userCode, session.clientId, username, `AADSTS50020: User account '${username}' does not exist in the app's tenant.`),
        }
      }
      return {
        status: 200,
        html: page('Signed in', '<h1>You have signed in</h1><p>You have signed in to the application on your device. You may now close this window.</p>'),
      }
    }
    default:
      return { status: 200, html: codeForm(undefined) }
  }
}

function codeForm(error: string | undefined): string {
  return page(
    'Enter code',
    `<h1>Enter code</h1>${error !== undefined ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/devicelogin">
<input type="hidden" name="action" value="code">
<label>Code <input type="text" name="otc" autocomplete="off"></label>
<button type="submit">Next</button>
</form>`,
  )
}

function signInForm(userCode: string, clientId: string, username: string, error: string | undefined): string {
  return page(
    'Sign in to your account',
    `<h1>Sign in</h1><p>to the application ${escapeHtml(clientId)} on your device</p>${error !== undefined ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/devicelogin">
<input type="hidden" name="otc" value="${escapeHtml(userCode)}">
<label>Email or username <input type="email" name="login" value="${escapeHtml(username)}" autocomplete="username"></label>
<label>Password <input type="password" name="passwd" autocomplete="current-password"></label>
<button type="submit" name="action" value="signin">Sign in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>`,
  )
}
