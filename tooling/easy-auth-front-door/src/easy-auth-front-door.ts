import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The app registration the front door signs users in to (a confidential client of the Entra emulator). */
export interface FrontDoorClient {
  clientId: string
  clientSecret: string
}

/** Options of {@link startEasyAuthFrontDoor}. */
export interface EasyAuthFrontDoorOptions {
  /** The Entra (emulator) origin, such as `emulator.url`. */
  authorityHost: string
  /** The tenant users sign in to. */
  tenantId: string
  /** A fetch that trusts the authority's certificate (`emulator.fetch`). */
  fetch: (input: string, init?: RequestInit) => Promise<Response>
  /**
   * Registers (or returns) the app once the front door knows its redirect URI
   * (`<front door url>/.auth/login/aad/callback`), as App Service's "Microsoft" provider is configured with one.
   * @example (redirectUri) => emulator.registerApp({ redirectUris: [redirectUri] })
   */
  register: (redirectUri: string) => FrontDoorClient | Promise<FrontDoorClient>
  /** Where authenticated requests go: the app's origin, or a function giving it (an app started after the front door). */
  upstream: string | (() => string)
  /**
   * Scopes of the sign-in. Default `openid profile email offline_access api://<client id>/user_impersonation`:
   * the "login scope for your API" that makes the token store's access token one the app can exchange on behalf of the user.
   */
  scopes?: string[]
  /** Paths (exact) forwarded without a signed-in user (with no identity headers). Default none. */
  anonymousPaths?: string[]
  /** Port. Default 0 (a free port). */
  port?: number
}

/** A running emulated Easy Auth front door. */
export interface EasyAuthFrontDoor {
  /** Origin, such as `http://127.0.0.1:51234`: what the browser opens. */
  readonly url: string
  /** The app registration it signs users in to. */
  readonly client: FrontDoorClient
  /** How many sessions exist. */
  readonly sessionCount: number
  /** How many times `/.auth/refresh` redeemed a refresh token successfully. */
  readonly refreshCount: number
  /** Marks every session's token as expired (the token-store headers then say so), as an idle session would be. */
  expireSessions(): number
  close(): Promise<void>
}

/** The platform's session cookie name. */
export const SESSION_COOKIE = 'AppServiceAuthSession'
/**
 * The cookie that binds a sign-in to the browser that started it (as the platform's nonce cookie does): a callback
 * URL (code + state) of someone else's sign-in, opened in a victim's browser, does not sign the victim in as them.
 */
export const NONCE_COOKIE = 'AppServiceAuthNonce'
const MAX_SESSIONS = 1000
const MAX_PENDING = 1000
const PENDING_LIFETIME_MS = 10 * 60_000
const TOKEN_TIMEOUT_MS = 10_000

interface Session {
  accessToken: string
  idToken: string | undefined
  refreshToken: string | undefined
  expiresOn: number
  idClaims: Record<string, unknown>
}

interface PendingSignIn {
  verifier: string
  /** The value of the browser's {@link NONCE_COOKIE}, set when this sign-in started. */
  nonce: string
  returnTo: string
  createdAt: number
}

interface TokenAnswer {
  access_token?: unknown
  id_token?: unknown
  refresh_token?: unknown
  expires_in?: unknown
  error?: unknown
  error_description?: unknown
}

function base64Url(bytes: Buffer): string {
  return bytes.toString('base64url')
}

function decodeClaims(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1]
  if (payload === undefined) return {}
  try {
    const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/**
 * A path of this site only, as a browser will read it: no open redirect. The value is parsed the way browsers parse
 * a `Location` (tabs and newlines dropped, `\\` read as `/`, dot segments removed), so `/\t/evil.example`,
 * `/\\evil.example` or `/.//evil.example` (all `//evil.example` to a browser) become `/`.
 */
function localPath(value: string | null, origin: string): string {
  if (!value?.startsWith('/') || !URL.canParse(value, origin)) return '/'
  const target = new URL(value, origin)
  const path = `${target.pathname}${target.search}${target.hash}`
  return target.origin === origin && !path.startsWith('//') ? path : '/'
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return undefined
}

function sameText(left: string, right: string): boolean {
  const a = Buffer.from(left)
  const b = Buffer.from(right)
  return a.length === b.length && timingSafeEqual(a, b)
}

function withoutCookie(header: string | undefined, name: string): string | undefined {
  const kept = (header ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part.split('=')[0] !== name)
  return kept.length > 0 ? kept.join('; ') : undefined
}

/** The principal App Service passes in `X-MS-CLIENT-PRINCIPAL`: base64 of `{ auth_typ, claims, name_typ, role_typ }`. */
function principalHeader(claims: Record<string, unknown>): string {
  const list: { typ: string; val: string }[] = []
  for (const [typ, value] of Object.entries(claims)) {
    const values = Array.isArray(value) ? value : [value]
    for (const item of values) {
      if (typeof item === 'string' || typeof item === 'number') {
        list.push({ typ: typ === 'oid' ? 'http://schemas.microsoft.com/identity/claims/objectidentifier' : typ, val: String(item) })
      }
    }
  }
  const body = { auth_typ: 'aad', claims: list, name_typ: 'preferred_username', role_typ: 'roles' }
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64')
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'host'])

/**
 * Starts an emulated App Service authentication ("Easy Auth") front door on loopback (http): it signs the browser
 * user in at the Entra emulator's `/authorize` page (authorization code + PKCE, as a confidential client), keeps the
 * session in the `AppServiceAuthSession` cookie, removes every `X-MS-*` header a client sent, adds the token-store
 * headers (`X-MS-TOKEN-AAD-ACCESS-TOKEN`, `-ID-TOKEN`, `-EXPIRES-ON`, `X-MS-CLIENT-PRINCIPAL*`) and forwards to the app.
 * Serves `/.auth/login/aad`, `/.auth/login/aad/callback`, `/.auth/me`, `/.auth/refresh` and `/.auth/logout`.
 * Unauthenticated requests: a page (GET accepting `text/html`) is redirected to sign in, anything else gets 401.
 */
export async function startEasyAuthFrontDoor(options: EasyAuthFrontDoorOptions): Promise<EasyAuthFrontDoor> {
  const sessions = new Map<string, Session>()
  const pending = new Map<string, PendingSignIn>()
  const anonymousPaths = new Set(options.anonymousPaths ?? [])
  let refreshCount = 0
  let client: FrontDoorClient | undefined
  let origin = ''
  const authority = `${options.authorityHost.replace(/\/+$/, '')}/${options.tenantId}/oauth2/v2.0`
  const redirectPath = '/.auth/login/aad/callback'

  const scopes = (): string => (options.scopes ?? ['openid', 'profile', 'email', 'offline_access', `api://${client?.clientId}/user_impersonation`]).join(' ')

  async function tokenRequest(fields: Record<string, string>): Promise<TokenAnswer> {
    const registration = client as FrontDoorClient
    const response = await options.fetch(`${authority}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: registration.clientId, client_secret: registration.clientSecret, scope: scopes(), ...fields }).toString(),
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    })
    const answer = (await response.json()) as TokenAnswer
    if (!response.ok || typeof answer.access_token !== 'string') {
      const error = typeof answer.error === 'string' ? answer.error.slice(0, 64) : `HTTP ${response.status}`
      throw new Error(`token request refused: ${error}`)
    }
    return answer
  }

  function sessionFrom(answer: TokenAnswer, previous?: Session): Session {
    const idToken = typeof answer.id_token === 'string' ? answer.id_token : previous?.idToken
    const expiresIn = typeof answer.expires_in === 'number' ? answer.expires_in : Number(answer.expires_in ?? 3600)
    return {
      accessToken: answer.access_token as string,
      idToken,
      refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : previous?.refreshToken,
      expiresOn: Date.now() + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000,
      idClaims: idToken === undefined ? (previous?.idClaims ?? {}) : decodeClaims(idToken),
    }
  }

  function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers })
    response.end(JSON.stringify(body))
  }

  function redirect(response: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
    response.writeHead(302, { location, 'cache-control': 'no-store', ...headers })
    response.end()
  }

  function startSignIn(response: ServerResponse, returnTo: string): void {
    const state = base64Url(randomBytes(24))
    const verifier = base64Url(randomBytes(32))
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value as string)
    const nonce = base64Url(randomBytes(24))
    pending.set(state, { verifier, nonce, returnTo, createdAt: Date.now() })
    const query = new URLSearchParams({
      client_id: (client as FrontDoorClient).clientId,
      response_type: 'code',
      redirect_uri: `${origin}${redirectPath}`,
      response_mode: 'query',
      scope: scopes(),
      state,
      code_challenge: base64Url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    })
    redirect(response, `${authority}/authorize?${query}`, {
      'set-cookie': `${NONCE_COOKIE}=${nonce}; Path=/.auth; HttpOnly; SameSite=Lax; Max-Age=${PENDING_LIFETIME_MS / 1000}`,
    })
  }

  async function finishSignIn(url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const state = url.searchParams.get('state') ?? ''
    const signIn = pending.get(state)
    pending.delete(state)
    if (signIn === undefined || Date.now() - signIn.createdAt > PENDING_LIFETIME_MS) {
      return sendJson(response, 400, { error: 'the sign-in is unknown or expired: start again at /.auth/login/aad' })
    }
    const nonce = cookieValue(request.headers.cookie, NONCE_COOKIE)
    if (nonce === undefined || !sameText(nonce, signIn.nonce)) {
      // Login CSRF: this callback belongs to a sign-in another browser started; its code is never redeemed here.
      return sendJson(response, 400, { error: 'this sign-in was started in another browser: start again at /.auth/login/aad' })
    }
    const code = url.searchParams.get('code')
    if (code === null) {
      const error = (url.searchParams.get('error') ?? 'no code').slice(0, 64)
      return sendJson(response, 401, { error: `the sign-in failed: ${error}` })
    }
    const answer = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: `${origin}${redirectPath}`, code_verifier: signIn.verifier })
    const id = base64Url(randomBytes(32))
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string)
    sessions.set(id, sessionFrom(answer))
    redirect(response, signIn.returnTo, {
      'set-cookie': [`${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`, `${NONCE_COOKIE}=; Path=/.auth; HttpOnly; SameSite=Lax; Max-Age=0`],
    })
  }

  function identityHeaders(session: Session): Record<string, string> {
    const claims = session.idClaims
    const headers: Record<string, string> = {
      'x-ms-token-aad-access-token': session.accessToken,
      'x-ms-token-aad-expires-on': new Date(session.expiresOn).toISOString(),
      'x-ms-client-principal': principalHeader(claims),
      'x-ms-client-principal-idp': 'aad',
    }
    if (session.idToken !== undefined) headers['x-ms-token-aad-id-token'] = session.idToken
    if (typeof claims.oid === 'string') headers['x-ms-client-principal-id'] = claims.oid
    if (typeof claims.preferred_username === 'string') headers['x-ms-client-principal-name'] = claims.preferred_username
    return headers
  }

  function forward(request: IncomingMessage, response: ServerResponse, session: Session | undefined): void {
    const headers: IncomingHttpHeaders = {}
    for (const [name, value] of Object.entries(request.headers)) {
      // Like the platform: whatever X-MS-* a client sent never reaches the app.
      if (name.startsWith('x-ms-') || HOP_BY_HOP.has(name)) continue
      headers[name] = value
    }
    const cookie = withoutCookie(withoutCookie(request.headers.cookie, SESSION_COOKIE), NONCE_COOKIE)
    if (cookie === undefined) delete headers.cookie
    else headers.cookie = cookie
    if (session !== undefined) Object.assign(headers, identityHeaders(session))
    const target = new URL(typeof options.upstream === 'function' ? options.upstream() : options.upstream)
    headers['x-forwarded-host'] = request.headers.host ?? ''
    headers['x-forwarded-proto'] = 'http'
    const upstream = httpRequest({ hostname: target.hostname, port: target.port, method: request.method, path: request.url, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(response)
    })
    upstream.setTimeout(60_000, () => upstream.destroy(new Error('upstream timeout')))
    upstream.on('error', () => {
      if (!response.headersSent) sendJson(response, 502, { error: 'the app did not answer' })
      else response.destroy()
    })
    request.pipe(upstream)
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', origin)
    const sessionId = cookieValue(request.headers.cookie, SESSION_COOKIE)
    const session = sessionId === undefined ? undefined : sessions.get(sessionId)
    switch (url.pathname) {
      case '/.auth/login/aad':
        return startSignIn(response, localPath(url.searchParams.get('post_login_redirect_uri'), origin))
      case redirectPath:
        return finishSignIn(url, request, response)
      case '/.auth/me':
        if (session === undefined) return sendJson(response, 401, { error: 'not signed in' })
        return sendJson(response, 200, [
          {
            provider_name: 'aad',
            user_id: session.idClaims.preferred_username ?? session.idClaims.oid,
            expires_on: new Date(session.expiresOn).toISOString(),
            access_token: session.accessToken,
            id_token: session.idToken,
            user_claims: Object.entries(session.idClaims).map(([typ, val]) => ({ typ, val: String(val) })),
          },
        ])
      case '/.auth/refresh': {
        if (session === undefined || sessionId === undefined || session.refreshToken === undefined) return sendJson(response, 401, { error: 'not signed in' })
        try {
          sessions.set(sessionId, sessionFrom(await tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refreshToken }), session))
          refreshCount++
          return sendJson(response, 200, { refreshed: true })
        } catch {
          sessions.delete(sessionId)
          return sendJson(response, 401, { error: 'the refresh token was refused: sign in again at /.auth/login/aad' })
        }
      }
      case '/.auth/logout':
        if (sessionId !== undefined) sessions.delete(sessionId)
        return redirect(response, localPath(url.searchParams.get('post_logout_redirect_uri'), origin), {
          'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
        })
    }
    if (session === undefined && !anonymousPaths.has(url.pathname)) {
      const page = request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')
      if (page) return redirect(response, `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(url.pathname + url.search)}`)
      return sendJson(response, 401, { error: 'not signed in', login: '/.auth/login/aad' })
    }
    forward(request, response, session)
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message.slice(0, 200) : 'failed'
      if (!response.headersSent) sendJson(response, 502, { error: message })
      else response.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    client = await options.register(`${origin}${redirectPath}`)
  } catch (error) {
    server.close()
    throw error
  }
  const registration = client
  return {
    url: origin,
    client: registration,
    get sessionCount() {
      return sessions.size
    },
    get refreshCount() {
      return refreshCount
    },
    expireSessions() {
      for (const session of sessions.values()) session.expiresOn = Date.now() - 1000
      return sessions.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
