/** How {@link signInAtAuthorize} plays the user. */
export interface SignInAtAuthorizeOptions {
  username: string
  /** Default the user's password in the directory (pass a wrong one to see the page refuse it). */
  password?: string
  /** What the user answers if the consent page shows. Default `accept`. */
  consent?: 'accept' | 'deny'
}

/** Where the sign-in ended. */
export interface SignInAtAuthorizeResult {
  /** The HTTP status of the last page (302 for a redirect to the app). */
  status: number
  /** The redirect to the app (`response_mode` query or fragment), with `code` and `state` or `error`. */
  location?: string
  /** The fields an auto-submitting form would post to the app (`response_mode=form_post`). */
  formPost?: Record<string, string>
  /** The HTML of the last page when it is not a redirect (an error page, the sign-in page with its error). */
  page?: string
  /** Whether the consent page was shown. */
  consentShown: boolean
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>

/**
 * Plays a browser on the emulator's sign-in page with plain HTTP requests: GET `authorizeUrl`, POST the
 * username and password form, answer the consent page when it shows, and return where it ended.
 */
export async function signInAtAuthorize(
  fetch: Fetch,
  authorizeUrl: string,
  options: SignInAtAuthorizeOptions & { password: string },
): Promise<SignInAtAuthorizeResult> {
  let response = await fetch(authorizeUrl, { redirect: 'manual' })
  let consentShown = false
  const origin = new URL(authorizeUrl).origin
  for (let step = 0; step < 3; step += 1) {
    if (response.status !== 200) return ended(response, consentShown)
    const html = await response.text()
    const form = /<form method="post" action="([^"]+)">/.exec(html)
    const flow = /name="flow" value="([^"]+)"/.exec(html)?.[1]
    if (form?.[1] === undefined || flow === undefined || form[1].startsWith('http')) return { status: response.status, ...pageOrPost(html), consentShown }
    const isConsent = html.includes('name="action" value="accept"')
    if (!isConsent && step > 0) return { status: response.status, page: html, consentShown } // the sign-in page again: refused
    consentShown ||= isConsent
    const fields: Record<string, string> = isConsent
      ? { flow, action: options.consent ?? 'accept' }
      : { flow, action: 'signin', login: options.username, passwd: options.password }
    response = await fetch(`${origin}${decodeHtml(form[1])}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  }
  return ended(response, consentShown)
}

async function ended(response: Response, consentShown: boolean): Promise<SignInAtAuthorizeResult> {
  const location = response.headers.get('location')
  if (location !== null) {
    await response.body?.cancel()
    return { status: response.status, location, consentShown }
  }
  return { status: response.status, ...pageOrPost(await response.text()), consentShown }
}

function pageOrPost(html: string): { page: string } | { formPost: Record<string, string>; page: string } {
  const post = /<form method="post" action="(https?:[^"]+)">/.exec(html)
  if (post === null) return { page: html }
  const fields: Record<string, string> = {}
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[decodeHtml(match[1] ?? '')] = decodeHtml(match[2] ?? '')
  return { formPost: fields, page: html }
}

function decodeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)))
}
