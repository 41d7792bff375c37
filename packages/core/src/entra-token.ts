import { AzcredError } from './azcred-error'
import { type HttpOptions, sendJsonRequest } from './http'
import type { AccessToken } from './token-credential'
import type { TokenRequest } from './token-lifecycle'

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

function seconds(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined
}

/**
 * Reads an OAuth token answer (`access_token`, `expires_in`, optional `refresh_in`; `expires_on`
 * in epoch seconds as managed-identity endpoints send it) into an `AccessToken`.
 * @throws AzcredError AZCRED_RESPONSE_INVALID when the token or its lifetime is missing.
 */
export function toAccessToken(body: Record<string, unknown>, endpointName: string, now = Date.now()): AccessToken {
  const token = body.access_token
  if (typeof token !== 'string' || token === '') {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `${endpointName} answered without an access_token`)
  }
  const expiresIn = seconds(body.expires_in)
  const expiresOn = seconds(body.expires_on)
  const expiresOnTimestamp = expiresIn !== undefined ? now + expiresIn * 1000 : expiresOn !== undefined ? expiresOn * 1000 : undefined
  if (expiresOnTimestamp === undefined) {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `${endpointName} answered without a usable expires_in or expires_on`)
  }
  const refreshIn = seconds(body.refresh_in)
  const accessToken: AccessToken = { token, expiresOnTimestamp, tokenType: 'Bearer' }
  if (refreshIn !== undefined) accessToken.refreshAfterTimestamp = now + refreshIn * 1000
  return accessToken
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
      body: new URLSearchParams(request.form).toString(),
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
 * authentication, and returns the token.
 * @throws AzcredError any code of `requestEntraToken`.
 */
export function requestClientCredentialsToken(input: ClientCredentialsTokenRequest): Promise<AccessToken> {
  const { request } = input
  const form: Record<string, string> = {
    grant_type: 'client_credentials',
    client_id: input.clientId,
    ...input.clientAuthentication,
    scope: request.scopes.join(' '),
  }
  if (request.claims !== undefined) form.claims = request.claims
  return requestEntraToken({
    authorityHost: input.authorityHost,
    tenantId: request.tenantId,
    form,
    fetch: input.fetch,
    timeoutMs: request.timeoutMs ?? input.timeoutMs,
    hints: input.hints,
  })
}
