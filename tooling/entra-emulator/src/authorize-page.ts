import { randomBytes } from 'node:crypto'
import { type DelegatedScopes, hasConsented, isRegisteredRedirectUri, parseDelegatedScopes, recordConsent } from './delegated-scopes'
import type { Directory } from './directory'
import { type AuthorizationCodeStore, PKCE_VALUE } from './grant-authorization-code'
import type { MfaRequirements, SignIn } from './user-tokens'

/** An HTML page or a redirect. */
export interface PageAnswer {
  status: number
  html?: string
  location?: string
}

/** An authorize request between the sign-in page and the redirect. */
interface PendingAuthorization {
  clientId: string
  tenantId: string
  redirectUri: string
  responseMode: 'query' | 'fragment' | 'form_post'
  state?: string
  nonce?: string
  scopes: DelegatedScopes
  prompt?: string
  loginHint?: string
  codeChallenge?: string
  codeChallengeMethod?: 'S256' | 'plain'
  signIn?: SignIn
  expiresAt: number
}

/** Sign-in pages expire after ten minutes. */
const PAGE_LIFETIME_MS = 10 * 60_000

/** What the sign-in page needs from the emulator. */
export interface AuthorizePageDeps {
  directory: Directory
  mfa: MfaRequirements
  codes: AuthorizationCodeStore
}

/**
 * `/{tenant}/oauth2/v2.0/authorize`: GET checks the request and shows a username + password form; POST
 * (from that form) signs the user in, asks for consent when the user has not consented the resource (or
 * `prompt=consent`), and redirects to the app with `code` and `state` (or `error`, `error_description`).
 * Errors that cannot be trusted to the redirect URI (unknown app, unregistered redirect URI) are shown as a page.
 */
export class AuthorizePage {
  readonly #pending = new Map<string, PendingAuthorization>()
  readonly #deps: AuthorizePageDeps

  constructor(deps: AuthorizePageDeps) {
    this.#deps = deps
  }

  /** GET: the sign-in form, or an error page / error redirect. */
  start(url: URL, tenantSegment: string, tenantId: string): PageAnswer {
    const query = url.searchParams
    const clientId = query.get('client_id')
    if (clientId === null || clientId === '') return errorPage(900144, "The request body must contain the following parameter: 'client_id'.")
    const app = this.#deps.directory.findApp(tenantId, clientId)
    if (app === undefined) return errorPage(700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`)
    const redirectUri = query.get('redirect_uri') ?? ''
    if (!isRegisteredRedirectUri(app, redirectUri)) {
      return errorPage(
        50011,
        `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
      )
    }
    const responseMode = query.get('response_mode') ?? 'query'
    const state = query.get('state') ?? undefined
    const target = { redirectUri, responseMode: responseMode === 'form_post' || responseMode === 'fragment' ? responseMode : 'query', state } as const
    if (responseMode !== 'query' && responseMode !== 'fragment' && responseMode !== 'form_post') {
      return redirectError(target, 'invalid_request', 900144, `The response_mode '${responseMode}' is not supported.`)
    }
    if (query.get('response_type') !== 'code') {
      return redirectError(
        target,
        'unsupported_response_type',
        700054,
        `The response_type '${query.get('response_type') ?? ''}' is not enabled for the application.`,
      )
    }
    const scopes = parseDelegatedScopes(query.get('scope'))
    if (scopes === 'empty') return redirectError(target, 'invalid_request', 900144, "The request must contain the following parameter: 'scope'.")
    if (scopes === 'multiple') {
      return redirectError(
        target,
        'invalid_scope',
        28000,
        'Provided value for the input parameter scope is not valid because it contains more than one resource.',
      )
    }
    const codeChallenge = query.get('code_challenge') ?? undefined
    const method = query.get('code_challenge_method') ?? (codeChallenge === undefined ? undefined : 'plain')
    if (method !== undefined && method !== 'S256' && method !== 'plain') {
      return redirectError(target, 'invalid_request', 501491, `The code_challenge_method '${method}' is not supported: use S256 or plain.`)
    }
    if (method !== undefined && codeChallenge === undefined) {
      return redirectError(target, 'invalid_request', 900144, "The request must contain the following parameter: 'code_challenge'.")
    }
    // RFC 7636 section 4.2: 43 to 128 unreserved characters (an S256 challenge is 43 base64url characters).
    if (codeChallenge !== undefined && !PKCE_VALUE.test(codeChallenge)) {
      return redirectError(target, 'invalid_request', 501491, 'Invalid size of Code_Challenge parameter.')
    }
    const prompt = query.get('prompt') ?? undefined
    if (prompt === 'none') {
      return redirectError(
        target,
        'login_required',
        50058,
        'A silent sign-in request was sent but no user is signed in (the emulator keeps no browser session).',
      )
    }
    const flow = randomBytes(18).toString('base64url')
    const pending: PendingAuthorization = {
      clientId: app.clientId,
      tenantId,
      ...target,
      scopes,
      expiresAt: Date.now() + PAGE_LIFETIME_MS,
      ...(query.get('nonce') !== null ? { nonce: query.get('nonce') as string } : {}),
      ...(prompt !== undefined ? { prompt } : {}),
      ...(query.get('login_hint') !== null ? { loginHint: query.get('login_hint') as string } : {}),
      ...(codeChallenge !== undefined && method !== undefined ? { codeChallenge, codeChallengeMethod: method } : {}),
    }
    this.#pending.set(flow, pending)
    return { status: 200, html: signInPage(tenantSegment, flow, pending.loginHint ?? '', undefined) }
  }

  /** POST from the sign-in or consent form. */
  submit(form: URLSearchParams, tenantSegment: string): PageAnswer {
    const flow = form.get('flow') ?? ''
    const pending = this.#pending.get(flow)
    if (pending === undefined || pending.expiresAt <= Date.now()) {
      this.#pending.delete(flow)
      return errorPage(50089, 'The sign-in session expired or is unknown. Start the sign-in again.')
    }
    switch (form.get('action')) {
      case 'signin': {
        const username = form.get('login') ?? ''
        const user = this.#deps.directory.findUser(username)
        if (user === undefined) {
          return {
            status: 200,
            html: signInPage(tenantSegment, flow, username, 'AADSTS50034: This username may be incorrect: the user account does not exist.'),
          }
        }
        if (form.get('passwd') !== user.password) {
          return { status: 200, html: signInPage(tenantSegment, flow, username, 'AADSTS50126: Your account or password is incorrect.') }
        }
        if (user.tenantId.toLowerCase() !== pending.tenantId.toLowerCase()) {
          this.#pending.delete(flow)
          return redirectError(pending, 'invalid_request', 50020, `User account '${username}' does not exist in tenant '${pending.tenantId}'.`)
        }
        pending.signIn = this.#deps.mfa.signIn(user)
        if (pending.prompt === 'consent' || !hasConsented(user, pending.scopes)) {
          return { status: 200, html: consentPage(tenantSegment, flow, pending) }
        }
        return this.#complete(flow, pending)
      }
      case 'accept':
        if (pending.signIn === undefined) return errorPage(50089, 'Sign in before consenting.')
        recordConsent(pending.signIn.user, pending.scopes)
        return this.#complete(flow, pending)
      case 'cancel':
        // "Cancel" on the sign-in page: Entra answers access_denied with error_subcode=cancel.
        this.#pending.delete(flow)
        return respond(pending, {
          error: 'access_denied',
          error_subcode: 'cancel',
          error_description: 'AADSTS65004: The user cancelled the sign-in.',
          ...(pending.state !== undefined ? { state: pending.state } : {}),
        })
      case 'deny':
        this.#pending.delete(flow)
        return redirectError(pending, 'access_denied', 65004, 'The user declined to consent to access the app.')
      default:
        return errorPage(900144, "The form must contain the parameter 'action' (signin, cancel, accept or deny).")
    }
  }

  #complete(flow: string, pending: PendingAuthorization): PageAnswer {
    this.#pending.delete(flow)
    if (pending.signIn === undefined) return errorPage(50089, 'Sign in first.')
    const code = this.#deps.codes.issue({
      clientId: pending.clientId,
      tenantId: pending.tenantId,
      redirectUri: pending.redirectUri,
      scopes: pending.scopes,
      signIn: pending.signIn,
      ...(pending.codeChallenge !== undefined ? { codeChallenge: pending.codeChallenge, codeChallengeMethod: pending.codeChallengeMethod ?? 'plain' } : {}),
      ...(pending.nonce !== undefined ? { nonce: pending.nonce } : {}),
    })
    return respond(pending, { code, ...(pending.state !== undefined ? { state: pending.state } : {}) })
  }
}

type RedirectTarget = Pick<PendingAuthorization, 'redirectUri' | 'responseMode' | 'state'>

/** Sends parameters to the app: a 302 (query / fragment) or an auto-submitting form (form_post). */
function respond(target: RedirectTarget, parameters: Record<string, string>): PageAnswer {
  if (target.responseMode === 'form_post') {
    const fields = Object.entries(parameters)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join('')
    return {
      status: 200,
      html: page(
        'Working...',
        `<form method="post" action="${escapeHtml(target.redirectUri)}">${fields}<noscript><button type="submit">Continue</button></noscript></form><script>document.forms[0].submit()</script>`,
      ),
    }
  }
  const url = new URL(target.redirectUri)
  const encoded = new URLSearchParams(parameters).toString()
  if (target.responseMode === 'fragment') url.hash = encoded
  else for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value)
  return { status: 302, location: url.toString() }
}

function redirectError(target: RedirectTarget, error: string, code: number, description: string): PageAnswer {
  return respond(target, {
    error,
    error_description: `AADSTS${code}: ${description}`,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    ...(target.state !== undefined ? { state: target.state } : {}),
  })
}

function errorPage(code: number, description: string): PageAnswer {
  return { status: 400, html: page('Sign in error', `<h1>We couldn't sign you in</h1><p id="error">AADSTS${code}: ${escapeHtml(description)}</p>`) }
}

function signInPage(tenantSegment: string, flow: string, username: string, error: string | undefined): string {
  return page(
    'Sign in to your account',
    `<h1>Sign in</h1>${error !== undefined ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/${escapeHtml(tenantSegment)}/oauth2/v2.0/authorize">
<input type="hidden" name="flow" value="${flow}">
<input type="hidden" name="action" value="signin">
<label>Email or username <input type="email" name="login" value="${escapeHtml(username)}" autocomplete="username"></label>
<label>Password <input type="password" name="passwd" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/${escapeHtml(tenantSegment)}/oauth2/v2.0/authorize">
<input type="hidden" name="flow" value="${flow}">
<button type="submit" name="action" value="cancel">Cancel</button>
</form>`,
  )
}

function consentPage(tenantSegment: string, flow: string, pending: PendingAuthorization): string {
  const permissions = pending.scopes.permissions.map((permission) => `<li>${escapeHtml(`${pending.scopes.resource}/${permission}`)}</li>`).join('')
  return page(
    'Permissions requested',
    `<h1>Permissions requested</h1><p>App ${escapeHtml(pending.clientId)} would like to:</p><ul>${permissions}</ul>
<form method="post" action="/${escapeHtml(tenantSegment)}/oauth2/v2.0/authorize">
<input type="hidden" name="flow" value="${flow}">
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form>`,
  )
}

/** A minimal HTML page. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
