import { TokenRequestError } from './azcred-error'
import type { ClientAuthentication } from './client-authentication'
import { type HttpOptions, sendJsonRequest } from './http'
import type { AccessToken } from './token-credential'
import type { TokenRequest } from './token-lifecycle'
import { parseTokenResponse, type TokenResponse, toAccessToken } from './token-response'
import { assertConfig } from './validate'

declare const __AZCRED_VERSION__: string

/**
 * The User-Agent azcred sends where the runtime lets it.
 * @internal For azcred's own packages; not covered by semver.
 */
export const USER_AGENT = `azcred/${typeof __AZCRED_VERSION__ === 'string' ? __AZCRED_VERSION__ : '0.0.0'}`

/**
 * A token request to an Entra ID v2.0 token endpoint.
 * @internal For azcred's own packages; not covered by semver.
 */
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

/**
 * The v2.0 token endpoint of a tenant.
 * @internal For azcred's own packages; not covered by semver.
 */
export function tokenEndpoint(authorityHost: string, tenantId: string): string {
  return `${authorityHost}/${tenantId}/oauth2/v2.0/token`
}

// The response rules moved to token-response.ts; these stay importable from here.
export { MAX_ACCESS_TOKEN_LENGTH, MAX_TOKEN_LIFETIME_MS, MIN_TOKEN_LIFETIME_MS, toAccessToken } from './token-response'

/**
 * The `claims` form field for a token request: the caller's claims challenge (a JSON object), with
 * the `cp1` client capability (`access_token.xms_cc`) merged in when `enableCae` is set, as the
 * official libraries send it. Undefined when there is nothing to send.
 * @throws AzcredError AZCRED_CONFIG_INVALID when `enableCae` is set and `claims` is not a JSON object.
 * @internal For azcred's own packages; not covered by semver.
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

type ResponseReader<T> = (body: Record<string, unknown>, endpointName: string, now: number) => T

// POSTs a form to the tenant's token endpoint and reads the answer with `read`.
async function postTokenForm<T>(request: EntraTokenRequest, read: ResponseReader<T>): Promise<T> {
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
  return read(response.body, endpointName, startedAt)
}

/**
 * POSTs a form to the tenant's v2.0 token endpoint and returns the access token.
 * @throws AzcredError any code of `sendJsonRequest`; Entra refusals are `TokenRequestError`.
 * @internal For azcred's own packages; not covered by semver.
 */
export function requestEntraToken(request: EntraTokenRequest): Promise<AccessToken> {
  return postTokenForm(request, toAccessToken)
}

/**
 * `client_assertion_type` for a JWT client assertion (certificate or federated).
 * @internal For azcred's own packages; not covered by semver.
 */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/**
 * One token request for any grant, as {@link requestTokenGrant} sends it.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface TokenGrantRequest extends HttpOptions {
  /** Normalised authority host, such as `https://login.microsoftonline.com`. */
  authorityHost: string
  /** The application (client) id, sent as `client_id`. */
  clientId: string
  /** What the engine asked for: tenant, scopes, claims, `enableCae`, `abortSignal` (which ends the request). */
  request: TokenRequest
  /**
   * `grant_type` and the grant's own fields (`refresh_token`; `device_code`; `code` + `redirect_uri` +
   * `code_verifier`; `assertion` + `requested_token_use`). `client_id`, `scope` (the request's scopes,
   * space-joined) and `claims` ({@link tokenRequestClaims}; none is sent when the request has none) are
   * added and win over the same names here; these fields win over the client authentication's.
   */
  grant: Record<string, string>
  /** How a confidential client proves itself; absent for a public client. */
  clientAuthentication?: ClientAuthentication | undefined
  /** Fix hints for the Entra error codes this flow meets; merged over the client authentication's. */
  hints?: Record<number, string> | undefined
}

// Sends one grant: the form, the client authentication's fields, one more try with fresh fields on
// a code in refreshOn, and the refusal described.
async function sendTokenGrant<T>(input: TokenGrantRequest, read: ResponseReader<T>): Promise<T> {
  const { request, clientAuthentication: authentication, authorityHost, clientId } = input
  const { tenantId, abortSignal } = request
  const claims = tokenRequestClaims(request.claims, request.enableCae)
  const hints = { ...authentication?.hints, ...input.hints }
  const send = async (forceRefresh: boolean): Promise<T> => {
    const fields = (await authentication?.formFields({ tenantId, authorityHost, clientId, forceRefresh, abortSignal })) ?? {}
    // The grant's fields, client_id, scope and claims are set after the client authentication's fields
    // (and client_id and scope after the grant's), so neither can replace them; the key order stays
    // grant, client_id, client authentication, scope.
    const form: Record<string, string> = { ...input.grant, client_id: clientId, ...fields, ...input.grant, scope: request.scopes.join(' ') }
    form.client_id = clientId
    if (claims) form.claims = claims
    else delete form.claims
    try {
      // The input's fetch and timeoutMs pass through; the engine's signal ends the request.
      return await postTokenForm({ ...input, tenantId, form, hints, abortSignal }, read)
    } catch (error) {
      const refreshOn = authentication?.refreshOn
      if (!(error instanceof TokenRequestError)) throw error
      if (!forceRefresh && error.errorCodes.some((code) => refreshOn?.includes(code))) return send(true)
      const description = authentication?.describeRefusal?.(error, fields)
      throw description ? new TokenRequestError(`${error.message}; ${description}`, error) : error
    }
  }
  return send(false)
}

/**
 * Sends one token request for any grant to the tenant's v2.0 token endpoint and reads the whole
 * answer ({@link parseTokenResponse}): the form is `grant_type` and the grant's fields, `client_id`,
 * the client authentication's fields (made with `forceRefresh: false`), `scope` and `claims`. When
 * Entra refuses with a code in the client authentication's `refreshOn`, its fields are made again with
 * `forceRefresh: true` and the request is sent once more (once only); a refusal's message gets the
 * client authentication's `describeRefusal` text. Nothing else is retried here (the engine retries).
 * @throws AzcredError AZCRED_TOKEN_REQUEST_FAILED (`TokenRequestError`) for a refusal,
 * AZCRED_RESPONSE_INVALID (see {@link parseTokenResponse}), AZCRED_NETWORK_ERROR, AZCRED_TIMEOUT,
 * AZCRED_ABORTED, AZCRED_CONFIG_INVALID for CAE claims that are not a JSON object (before sending), and
 * whatever the client authentication throws.
 * @example
 * const { accessToken, refreshToken } = await requestTokenGrant({ authorityHost, clientId, request,
 *   grant: { grant_type: 'refresh_token', refresh_token: oldRefreshToken } })
 * @internal For azcred's own packages; not covered by semver.
 */
export function requestTokenGrant(input: TokenGrantRequest): Promise<TokenResponse> {
  return sendTokenGrant(input, parseTokenResponse)
}

/**
 * One client-credentials token request, as every confidential app-only flow sends it.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface ClientCredentialsTokenRequest extends HttpOptions {
  authorityHost: string
  clientId: string
  /** What the engine asked for (tenant, scopes, claims, timeout). */
  request: TokenRequest
  /**
   * How the client proves itself: a {@link ClientAuthentication}, or (as before it existed) its form
   * fields, `{ client_secret }` or `{ client_assertion_type, client_assertion }`.
   */
  clientAuthentication: ClientAuthentication | Record<string, string>
  /** Fix hints for the Entra error codes this flow meets. */
  hints?: Record<number, string> | undefined
}

/**
 * Sends `grant_type=client_credentials` for the engine's request with the flow's client
 * authentication (claims per {@link tokenRequestClaims}, the request's `abortSignal` passed on), and
 * returns the access token: {@link requestTokenGrant} for this one grant, reading only what an
 * app-only answer has ({@link toAccessToken}), so an app-only bundle carries no user-token code.
 * @throws AzcredError any code of {@link requestTokenGrant}.
 * @internal For azcred's own packages; not covered by semver.
 */
export function requestClientCredentialsToken(input: ClientCredentialsTokenRequest): Promise<AccessToken> {
  const fields = input.clientAuthentication
  const clientAuthentication =
    typeof fields.formFields === 'function' ? (fields as ClientAuthentication) : { formFields: () => fields as Record<string, string> }
  return sendTokenGrant({ ...input, grant: { grant_type: 'client_credentials' }, clientAuthentication }, toAccessToken)
}
