export type { AbortSignalLike, AccessToken, GetTokenOptions, TokenCredential } from './token-credential'
export { DEFAULT_TOKEN_EXCHANGE_AUDIENCE } from './federated-token-provider'
export type { FederatedTokenProvider, FederatedTokenRequest } from './federated-token-provider'
export { AzcredError, TokenRequestError } from './azcred-error'
export type { AzcredErrorCode, TokenRequestErrorDetails } from './azcred-error'
export {
  ENV_ADDITIONALLY_ALLOWED_TENANTS,
  ENV_AUTHORITY_HOST,
  ENV_CLIENT_ID,
  ENV_CLIENT_SECRET,
  ENV_TENANT_ID,
  readEnv,
} from './env'
export {
  DEFAULT_AUTHORITY_HOST,
  assertNonEmpty,
  assertTenantId,
  isLoopbackHostname,
  normalizeAuthorityHost,
  normalizeScopes,
} from './validate'
export type { AuthorityHostOptions } from './validate'
export { allowedTenants, resolveTenant } from './tenant'
export { DEFAULT_HTTP_TIMEOUT_MS, parseRetryAfter, sendJsonRequest, throwIfAborted } from './http'
export type { FetchLike, HttpOptions, JsonRequest, JsonResponse } from './http'
export { USER_AGENT, requestEntraToken, toAccessToken, tokenEndpoint } from './entra-token'
export type { EntraTokenRequest } from './entra-token'
