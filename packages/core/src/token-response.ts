import { AzcredError } from './azcred-error'
import { decodeBase64UrlJson, readJwtClaims } from './jwt-claims'
import type { AccessToken } from './token-credential'

/**
 * Longest token lifetime accepted, in milliseconds (24 hours, the longest Entra ID and managed identity issue); longer is capped.
 * @public
 */
export const MAX_TOKEN_LIFETIME_MS = 86_400_000

/**
 * Shortest token lifetime accepted, and shortest `refresh_in` honoured, in milliseconds (60 s: twice
 * the default 30 s clock skew, so a token is served from the cache for at least 30 s). Entra ID
 * issues tokens living an hour or more; a managed identity host may hand out a cached one that is
 * close to expiry, hence a modest floor.
 * @public
 */
export const MIN_TOKEN_LIFETIME_MS = 60_000

/**
 * Longest token accepted, in characters (64 KB): an `access_token`, and also a `refresh_token`, an
 * `id_token` and a `scope` list.
 * @public
 */
export const MAX_ACCESS_TOKEN_LENGTH = 65_536

// A number, or a string of plain decimal digits ("3599", "1.5"); never "0x10", "1e3" or " 1 ".
function seconds(value: unknown): number {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) ? Number(value) : Number.NaN
}

/**
 * Reads an OAuth token answer (`access_token`, `expires_in`, optional `refresh_in`, `token_type`;
 * `expires_on` in epoch seconds as managed-identity endpoints send it, or in milliseconds when it is over
 * 1e11) into an `AccessToken`. Each is a JSON number or a string of plain decimal digits. The lifetime
 * is capped at {@link MAX_TOKEN_LIFETIME_MS}; a `refresh_in` under {@link MIN_TOKEN_LIFETIME_MS} or
 * not inside the lifetime is ignored. These are the one set of number and date rules: it is the first
 * step of {@link parseTokenResponse} (which also reads the signed-in user's fields), and app-only flows
 * call it alone so their bundles carry nothing else.
 * @throws AzcredError AZCRED_RESPONSE_INVALID when the token is missing or not printable ASCII (at most
 * {@link MAX_ACCESS_TOKEN_LENGTH}), `token_type` is not Bearer, or the lifetime is missing, not a number
 * or under {@link MIN_TOKEN_LIFETIME_MS}.
 * @internal For azcred's own packages; not covered by semver.
 */
export function toAccessToken(body: Record<string, unknown>, endpointName: string, now = Date.now()): AccessToken {
  const { access_token: token, token_type: type, expires_in: expiresIn } = body
  // `!(x >= min)` also refuses NaN.
  let expiresOn = seconds(body.expires_on)
  // Over 1e11 (the year 5138 in seconds) it was sent in milliseconds: read it so, then an expired one is refused.
  if (expiresOn > 1e11) expiresOn /= 1000
  const lifetime = Math.min(expiresIn != null ? seconds(expiresIn) : expiresOn - now / 1000, MAX_TOKEN_LIFETIME_MS / 1000) * 1000
  const invalid = !isToken(token)
    ? 'access_token'
    : type != null && !(typeof type === 'string' && /^bearer$/i.test(type))
      ? 'token_type (only Bearer)'
      : !(lifetime >= MIN_TOKEN_LIFETIME_MS) && 'expires_in or expires_on (at least 60 s)'
  if (invalid) throw new AzcredError('AZCRED_RESPONSE_INVALID', `${endpointName} answered a missing or invalid ${invalid}: check the URL`)
  const refresh = seconds(body.refresh_in) * 1000
  const accessToken: AccessToken = { token: token as string, expiresOnTimestamp: now + lifetime, tokenType: 'Bearer' }
  if (refresh >= MIN_TOKEN_LIFETIME_MS && refresh < lifetime) accessToken.refreshAfterTimestamp = now + refresh
  return accessToken
}

// A token: printable ASCII without spaces, 1 to MAX_ACCESS_TOKEN_LENGTH characters.
function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ACCESS_TOKEN_LENGTH && /^[!-~]+$/.test(value)
}

/**
 * Everything a token endpoint answered that azcred uses.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface TokenResponse {
  /** The access token, its expiry and `refresh_in` (rules of {@link toAccessToken}). */
  accessToken: AccessToken
  /** `refresh_token`: a secret, like the access token. Absent when the answer had none (or an empty one). */
  refreshToken?: string
  /**
   * The `id_token`'s payload, decoded but NOT verified (it came over TLS from the token endpoint, as
   * OpenID Connect allows); frozen. The raw id token is never kept. Absent without an id token.
   */
  idTokenClaims?: Readonly<Record<string, unknown>>
  /**
   * The account: `${uid}.${utid}` from `client_info` (base64url JSON, sent when the request had
   * `client_info=1`), else `${oid}.${tid}` from the id token's claims; absent when neither gives one.
   */
  homeAccountId?: string
  /** The `scope` field split on spaces: the scopes granted, which may differ from those asked. */
  grantedScopes?: string[]
}

// An id of an account half (uid, utid, oid, tid): a GUID, or for Azure AD B2C `<oid>-<policy>`. No dot,
// so `${uid}.${utid}` splits back unambiguously.
const ACCOUNT_PART = /^[\w-]{1,160}$/

function homeAccountId(uid: unknown, utid: unknown): string | undefined {
  return typeof uid === 'string' && typeof utid === 'string' && ACCOUNT_PART.test(uid) && ACCOUNT_PART.test(utid) ? `${uid}.${utid}` : undefined
}

/**
 * Reads a token endpoint's answer: the access token by {@link toAccessToken}'s rules, then the fields a
 * signed-in user's flows need. Entra ID and managed identity both come here (managed identity adapts
 * its hosts' quirks first). A field that is absent, null or an empty string (as managed identity sends
 * `refresh_token: ""`) is left out; a field that is present must be valid, otherwise the whole answer
 * is refused (a broken field means a broken or hostile endpoint, and a half-read account would be cached):
 * - `refresh_token`: printable ASCII without spaces, at most {@link MAX_ACCESS_TOKEN_LENGTH} characters;
 * - `id_token`: the same, and a JWT whose payload is a JSON object; its claims are decoded (not verified);
 * - `client_info`: base64url JSON `{ uid, utid }`, each 1 to 160 letters, digits, `_` or `-`, at most 4096
 *   characters; gives `homeAccountId`. Without it, the id token's `oid` and `tid` give it when both
 *   have that form, else there is none;
 * - `scope`: printable ASCII, at most {@link MAX_ACCESS_TOKEN_LENGTH} characters, split on spaces.
 *
 * `toAccessToken(body, name, now)` equals `parseTokenResponse(body, name, now).accessToken` for every
 * answer this accepts. Messages name the field, never its value.
 * @param now the time the request was sent, in epoch milliseconds (lifetimes count from it).
 * @throws AzcredError AZCRED_RESPONSE_INVALID naming the field, as above and as {@link toAccessToken}.
 * @internal For azcred's own packages; not covered by semver.
 */
export function parseTokenResponse(body: Record<string, unknown>, endpointName: string, now = Date.now()): TokenResponse {
  const response: TokenResponse = { accessToken: toAccessToken(body, endpointName, now) }
  const { refresh_token: refreshToken, id_token: idToken, client_info: clientInfo, scope } = body
  const present = (value: unknown): boolean => value != null && value !== ''
  let invalid: string | undefined
  if (present(refreshToken)) {
    if (isToken(refreshToken)) response.refreshToken = refreshToken
    else invalid = 'refresh_token'
  }
  if (present(idToken)) {
    const claims = isToken(idToken) ? readJwtClaims(idToken) : undefined
    if (claims !== undefined && !Array.isArray(claims)) response.idTokenClaims = Object.freeze(claims)
    else invalid = 'id_token (a JWT)'
  }
  if (present(clientInfo)) {
    const info = typeof clientInfo === 'string' && clientInfo.length <= 4096 ? (decodeBase64UrlJson(clientInfo) as Record<string, unknown>) : undefined
    response.homeAccountId = homeAccountId(info?.uid, info?.utid)
    if (response.homeAccountId === undefined) invalid = 'client_info (base64url JSON with uid and utid)'
  } else if (response.idTokenClaims !== undefined) {
    const account = homeAccountId(response.idTokenClaims.oid, response.idTokenClaims.tid)
    if (account !== undefined) response.homeAccountId = account
  }
  if (present(scope)) {
    if (typeof scope === 'string' && scope.length <= MAX_ACCESS_TOKEN_LENGTH && /^[ -~]+$/.test(scope)) {
      response.grantedScopes = scope.split(' ').filter((item) => item !== '')
    } else invalid = 'scope'
  }
  if (invalid) throw new AzcredError('AZCRED_RESPONSE_INVALID', `${endpointName} answered an invalid ${invalid}`)
  return response
}
