import { AzcredError, InteractionRequiredError, MAX_ACCESS_TOKEN_LENGTH, readEnv, readJwtClaims } from '@azcred/core'
import { EASY_AUTH_HEADERS, type EasyAuthRequest, headerReader } from './easy-auth-headers'
import { type EasyAuthPrincipal, readPrincipal } from './easy-auth-principal'

/**
 * `WEBSITE_AUTH_ENABLED`: `True` when App Service authentication runs in front of the app (the platform sets
 * it, and then strips `X-MS-*` headers sent by clients before it adds its own).
 * @public
 */
export const ENV_WEBSITE_AUTH_ENABLED = 'WEBSITE_AUTH_ENABLED'
/**
 * `WEBSITE_AUTH_CLIENT_ID`: the client id of the app registration App Service authentication signs users in to.
 * @public
 */
export const ENV_WEBSITE_AUTH_CLIENT_ID = 'WEBSITE_AUTH_CLIENT_ID'

/**
 * The App Service paths a browser calls: sign in with Microsoft Entra, and refresh the token-store tokens.
 * @public
 */
export const EASY_AUTH_PATHS = { login: '/.auth/login/aad', refresh: '/.auth/refresh' } as const

/**
 * How long before its expiry an Easy Auth access token is treated as expired (ms): the on-behalf-of exchange
 * must not race the expiry. 60 000.
 * @public
 */
export const EASY_AUTH_EXPIRY_MARGIN_MS = 60_000

/**
 * Options shared by everything that reads Easy Auth headers.
 * @public
 */
export interface EasyAuthTrustOptions {
  /**
   * Trust `X-MS-*` headers although `WEBSITE_AUTH_ENABLED` is not `True`. Only behind a proxy you run that,
   * like App Service, removes every `X-MS-*` header a client sent: anyone can send these headers to a server
   * that is reached directly. Default false.
   */
  trustHeaders?: boolean
}

/**
 * `AZCRED_INTERACTION_REQUIRED` from Easy Auth headers: nobody is signed in (`action` `login`), or the
 * token store's access token expired (`action` `refresh`). Answer the browser so that it goes to `path`:
 * `GET /.auth/login/aad` to sign in, `GET /.auth/refresh` (then retry the request) to refresh.
 * @public
 */
export class EasyAuthInteractionRequiredError extends InteractionRequiredError {
  /** `login` (no signed-in user) or `refresh` (the Easy Auth access token expired). */
  declare readonly action: 'login' | 'refresh'
  /** The App Service path the browser calls: `/.auth/login/aad` or `/.auth/refresh`. */
  declare readonly path: string

  constructor(action: 'login' | 'refresh', message: string) {
    super(message)
    this.name = 'EasyAuthInteractionRequiredError'
    this.action = action
    this.path = EASY_AUTH_PATHS[action]
  }
}

/** What the headers say about the signed-in user; the tokens stay in this object, which is never returned to callers. */
export interface EasyAuthSession {
  principal: EasyAuthPrincipal
  accessToken: string
  /** Claims of the access token (read, not verified: Easy Auth validated it). */
  tokenClaims: Record<string, unknown>
  expiresOnTimestamp: number
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
const MAX_DATE_LENGTH = 64

/** True when the process runs behind App Service authentication (`WEBSITE_AUTH_ENABLED=True`, any case). */
export function runsBehindEasyAuth(): boolean {
  return readEnv(ENV_WEBSITE_AUTH_ENABLED)?.trim().toLowerCase() === 'true'
}

/**
 * Refuses to read `X-MS-*` headers when nothing guarantees the platform set them.
 * @throws AzcredError AZCRED_CONFIG_INVALID off the platform without `trustHeaders: true`.
 */
export function assertTrusted(options: EasyAuthTrustOptions | undefined): void {
  const trust = options?.trustHeaders
  if (trust !== undefined && typeof trust !== 'boolean') throw new AzcredError('AZCRED_CONFIG_INVALID', 'trustHeaders must be a boolean')
  if (trust === true || runsBehindEasyAuth()) return
  throw new AzcredError(
    'AZCRED_CONFIG_INVALID',
    `Easy Auth headers are not trusted here: ${ENV_WEBSITE_AUTH_ENABLED} is not True, so App Service authentication is not in front of this process, and off the platform anyone can forge X-MS-* headers. Turn on App Service authentication, or pass trustHeaders: true only behind a proxy you run that removes every X-MS-* header a client sends.`,
  )
}

/**
 * The signed-in user of a request (id, name, identity provider, roles, claims), or undefined for an anonymous
 * request; for apps that only show or authorize on the user. Same request shapes and trust rule as
 * `easyAuthCredential`; reads no token.
 * @throws AzcredError AZCRED_CONFIG_INVALID when the headers are not trusted; AZCRED_RESPONSE_INVALID when a header is malformed.
 * @example
 * const user = readEasyAuthPrincipal(request)
 * if (!user?.roles.includes('Admin')) return new Response('forbidden', { status: 403 })
 * @public
 */
export function readEasyAuthPrincipal(request: EasyAuthRequest, options?: EasyAuthTrustOptions): EasyAuthPrincipal | undefined {
  assertTrusted(options)
  return readPrincipal(headerReader(request))
}

function expiresOnHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const time = value.length <= MAX_DATE_LENGTH ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(time)) {
    throw new AzcredError(
      'AZCRED_RESPONSE_INVALID',
      `${EASY_AUTH_HEADERS.expiresOn} is not a date: refused (behind App Service authentication the platform sets it)`,
    )
  }
  return time
}

/**
 * Reads the user and the token store's access token from trusted headers.
 * @throws AzcredError AZCRED_CONFIG_INVALID (not trusted; signed in but no access token: the token store is off),
 *   AZCRED_RESPONSE_INVALID (malformed header), EasyAuthInteractionRequiredError (nobody signed in; token expired).
 */
export function readEasyAuthSession(request: EasyAuthRequest, options: EasyAuthTrustOptions | undefined, now = Date.now()): EasyAuthSession {
  assertTrusted(options)
  const read = headerReader(request)
  const principal = readPrincipal(read)
  const accessToken = read(EASY_AUTH_HEADERS.accessToken)
  if (principal === undefined && accessToken === undefined) {
    throw new EasyAuthInteractionRequiredError(
      'login',
      `no signed-in user: the request carries no ${EASY_AUTH_HEADERS.principal}. Send the browser to ${EASY_AUTH_PATHS.login} (or set App Service authentication to require authentication)`,
    )
  }
  if (accessToken === undefined) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `the user is signed in but the request carries no ${EASY_AUTH_HEADERS.accessToken}: turn on the token store of App Service authentication, and add a login scope for your API (Microsoft Entra provider, login parameters "scope=openid profile email offline_access api://<client id>/user_impersonation")`,
    )
  }
  const claims = accessToken.length <= MAX_ACCESS_TOKEN_LENGTH && JWT.test(accessToken) ? readJwtClaims(accessToken) : undefined
  if (claims === undefined) {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `${EASY_AUTH_HEADERS.accessToken} is not a JWT: refused`)
  }
  const fromClaims = typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined
  const fromHeader = expiresOnHeader(read(EASY_AUTH_HEADERS.expiresOn))
  const expiresOnTimestamp = Math.min(fromClaims ?? Number.POSITIVE_INFINITY, fromHeader ?? Number.POSITIVE_INFINITY)
  if (!Number.isFinite(expiresOnTimestamp)) {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `the Easy Auth access token has no expiry (no exp claim, no ${EASY_AUTH_HEADERS.expiresOn}): refused`)
  }
  if (expiresOnTimestamp - EASY_AUTH_EXPIRY_MARGIN_MS <= now) {
    throw new EasyAuthInteractionRequiredError(
      'refresh',
      `the Easy Auth access token expired${expiresOnTimestamp > now ? ' or expires within a minute' : ''}: have the browser call ${EASY_AUTH_PATHS.refresh} (App Service refreshes the token store), then send the request again`,
    )
  }
  const user = principal ?? Object.freeze({ id: undefined, name: undefined, identityProvider: undefined, roles: Object.freeze([]), claims: Object.freeze([]) })
  const oid = typeof claims.oid === 'string' ? claims.oid : undefined
  if (user.id !== undefined && oid !== undefined && user.id.toLowerCase() !== oid.toLowerCase()) {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `${EASY_AUTH_HEADERS.principalId} and the access token's oid name different users: refused`)
  }
  return {
    principal: user.id === undefined && oid !== undefined ? Object.freeze({ ...user, id: oid }) : user,
    accessToken,
    tokenClaims: claims,
    expiresOnTimestamp,
  }
}
