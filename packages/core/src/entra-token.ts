import { AzcredError } from './azcred-error'
import { type HttpOptions, sendJsonRequest } from './http'
import type { AccessToken } from './token-credential'
import type { TokenRequest } from './token-lifecycle'
import { assertConfig } from './validate'

declare const __AZCRED_VERSION__: string

/** The User-Agent azcred sends where the runtime lets it. */
export const USER_AGENT = `azcred/${typeof __AZCRED_VERSION__ === 'string' ? __AZCRED_VERSION__ : '0.0.0'}`

/** A token request to an Entra ID v2.0 token endpoint. */
export interface EntraTokenRequest extends HttpOptions {
  /** Normalised authority host, such as `https://login.microsoftonline.com`. */
  authorityHost: string
  /** A validated tenant id. */
  tenantId: string
  /** Form fields: `grant_type`, `client_id`, `scope`, and the flow's own. */
  form: Record<string, string>
  /** Fix hints for the Entra error codes this flow meets, by numeric code. */
  hints?: Record<number, string>
}

/** The v2.0 token endpoint of a tenant. */
export function tokenEndpoint(authorityHost: string, tenantId: string): string {
  return `${authorityHost}/${tenantId}/oauth2/v2.0/token`
}

/** Longest token lifetime accepted, in milliseconds (24 hours, the longest Entra ID and managed identity issue); longer is capped. */
export const MAX_TOKEN_LIFETIME_MS = 86_400_000

/**
 * Shortest token lifetime accepted, and shortest `refresh_in` honoured, in milliseconds (60 s: twice
 * the default 30 s clock skew, so a token is served from the cache for at least 30 s). Entra ID
 * issues tokens living an hour or more; a managed identity host may hand out a cached one that is
 * close to expiry, hence a modest floor.
 */
export const MIN_TOKEN_LIFETIME_MS = 60_000

/** Longest access token accepted, in characters (64 KB). */
export const MAX_ACCESS_TOKEN_LENGTH = 65_536

// A number, or a string of plain decimal digits ("3599", "1.5"); never "0x10", "1e3" or " 1 ".
function seconds(value: unknown): number {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) ? Number(value) : Number.NaN
}

/**
 * Reads an OAuth token answer (`access_token`, `expires_in`, optional `refresh_in`, `token_type`;
 * `expires_on` in epoch seconds as managed-identity endpoints send it, or in milliseconds when it is over
 * 1e11) into an `AccessToken`. Each is
 * a JSON number or a string of plain decimal digits. The lifetime is capped at
 * {@link MAX_TOKEN_LIFETIME_MS}; a `refresh_in` under {@link MIN_TOKEN_LIFETIME_MS} or not inside the
 * lifetime is ignored.
 * @throws AzcredError AZCRED_RESPONSE_INVALID when the token is missing or not printable ASCII (at most
 * {@link MAX_ACCESS_TOKEN_LENGTH}), `token_type` is not Bearer, or the lifetime is missing, not a number
 * or under {@link MIN_TOKEN_LIFETIME_MS}.
 */
export function toAccessToken(body: Record<string, unknown>, endpointName: string, now = Date.now()): AccessToken {
  const { access_token: token, token_type: type, expires_in: expiresIn } = body
  // `!(x >= min)` also refuses NaN.
  let expiresOn = seconds(body.expires_on)
  // Over 1e11 (the year 5138 in seconds) it was sent in milliseconds: read it so, then an expired one is refused.
  if (expiresOn > 1e11) expiresOn /= 1000
  const lifetime = Math.min(expiresIn != null ? seconds(expiresIn) : expiresOn - now / 1000, MAX_TOKEN_LIFETIME_MS / 1000) * 1000
  const invalid =
    typeof token !== 'string' || token.length > MAX_ACCESS_TOKEN_LENGTH || !/^[!-~]+$/.test(token)
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

/**
 * The `claims` form field for a token request: the caller's claims challenge (a JSON object), with
 * the `cp1` client capability (`access_token.xms_cc`) merged in when `enableCae` is set, as the
 * official libraries send it. Undefined when there is nothing to send.
 * @throws AzcredError AZCRED_CONFIG_INVALID when `enableCae` is set and `claims` is not a JSON object.
 */
export function tokenRequestClaims(claims: string | undefined, enableCae: boolean): string | undefined {
  if (!enableCae) return claims || undefined
  let parsed: Record<string, unknown> | undefined
  try {
    parsed = JSON.parse(claims || '{}')
  } catch {}
  // Only a plain JSON object has `Object` as its constructor (not an array, string, number or null).
  assertConfig(parsed?.constructor === Object, 'claims must be a JSON object (the decoded claims challenge)')
  parsed.access_token = { ...(parsed.access_token as object), xms_cc: { values: ['cp1'] } }
  return JSON.stringify(parsed)
}

/**
 * POSTs a form to the tenant's v2.0 token endpoint and returns the access token.
 * @throws AzcredError any code of `sendJsonRequest`; Entra refusals are `TokenRequestError`.
 */
export async function requestEntraToken(request: EntraTokenRequest): Promise<AccessToken> {
  const endpointName = 'the Entra ID token endpoint'
  const startedAt = Date.now()
  const response = await sendJsonRequest(
    {
      url: tokenEndpoint(request.authorityHost, request.tenantId),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': USER_AGENT },
      body: `${new URLSearchParams(request.form)}`,
      endpointName,
      hints: request.hints,
    },
    request,
  )
  return toAccessToken(response.body, endpointName, startedAt)
}

/** `client_assertion_type` for a JWT client assertion (certificate or federated). */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** One client-credentials token request, as every confidential app-only flow sends it. */
export interface ClientCredentialsTokenRequest extends HttpOptions {
  authorityHost: string
  clientId: string
  /** What the engine asked for (tenant, scopes, claims, timeout). */
  request: TokenRequest
  /** How the client proves itself: `{ client_secret }` or `{ client_assertion_type, client_assertion }`. */
  clientAuthentication: Record<string, string>
  /** Fix hints for the Entra error codes this flow meets. */
  hints?: Record<number, string>
}

/**
 * Sends `grant_type=client_credentials` for the engine's request with the flow's client
 * authentication (claims per {@link tokenRequestClaims}, the request's `abortSignal` passed on), and
 * returns the token.
 * @throws AzcredError any code of `requestEntraToken`; AZCRED_CONFIG_INVALID for CAE claims that are not a JSON object.
 */
export async function requestClientCredentialsToken(input: ClientCredentialsTokenRequest): Promise<AccessToken> {
  const { request } = input
  const form: Record<string, string> = {
    grant_type: 'client_credentials',
    client_id: input.clientId,
    ...input.clientAuthentication,
    scope: request.scopes.join(' '),
  }
  const claims = tokenRequestClaims(request.claims, request.enableCae)
  if (claims !== undefined) form.claims = claims
  // The input's authorityHost, fetch, timeoutMs and hints pass through; the engine's signal ends the request.
  return requestEntraToken({ ...input, tenantId: request.tenantId, form, abortSignal: request.abortSignal })
}
