export type { AuthenticationRecord } from './authentication-record'
export {
  AUTHENTICATION_RECORD_VERSION,
  deserializeAuthenticationRecord,
  MAX_AUTHENTICATION_RECORD_LENGTH,
  serializeAuthenticationRecord,
} from './authentication-record'
export type { AnyAzcredError, AzcredErrorCode, PlainAzcredErrorCode, TokenRequestErrorDetails } from './azcred-error'
export { AzcredError, InteractionRequiredError, systemErrorCode, TokenRequestError, toInteractionRequired } from './azcred-error'
export type { ChainedTokenCredentialSource, TokenCredentialFactory } from './chained-token-credential'
export { ChainedTokenCredential } from './chained-token-credential'
export type { ClientAuthentication, ClientAuthenticationContext } from './client-authentication'
export type { EntraCredentialOptions } from './credential-options'
export { resolveAuthorityHost } from './credential-options'
export type { ClientCredentialsTokenRequest, EntraTokenRequest, TokenGrantRequest } from './entra-token'
export {
  JWT_BEARER_ASSERTION_TYPE,
  requestClientCredentialsToken,
  requestEntraToken,
  requestTokenGrant,
  tokenEndpoint,
  tokenRequestClaims,
  USER_AGENT,
} from './entra-token'
export {
  ENV_ADDITIONALLY_ALLOWED_TENANTS,
  ENV_AUTHORITY_HOST,
  ENV_CLIENT_ID,
  ENV_CLIENT_SECRET,
  ENV_LOG_LEVEL,
  ENV_TENANT_ID,
  proxyFromEnv,
  readEnv,
} from './env'
export type { FederatedTokenProvider, FederatedTokenRequest } from './federated-token-provider'
export { DEFAULT_TOKEN_EXCHANGE_AUDIENCE } from './federated-token-provider'
export type { FetchLike, HttpOptions, JsonRequest, JsonResponse } from './http'
export {
  DEFAULT_HTTP_TIMEOUT_MS,
  MAX_RESPONSE_BYTES,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  sendJsonRequest,
  serverText,
  throwIfAborted,
} from './http'
export { decodeBase64UrlJson, describeJwtSubject, jwtExpiresAt, readJwtClaims } from './jwt-claims'
export type { RetryOptions, RetryPolicyOptions } from './retry-policy'
export { DEFAULT_RETRY, isTransient } from './retry-policy'
export { allowedTenants, resolveTenant } from './tenant'
export type { MemoryTokenCacheOptions, TokenCache, TokenCacheEntry, TokenCachePartition } from './token-cache'
export { MAX_TOKEN_CACHE_VALUE_LENGTH, MemoryTokenCache, parseTokenCacheEntry, serializeTokenCacheEntry, tokenCacheKey } from './token-cache'
export type { AbortSignalLike, AccessToken, GetTokenOptions, TokenCredential } from './token-credential'
export type { TokenEvent, TokenEventBase, TokenEventListener } from './token-events'
export type { RefreshOptions, TokenFetcher, TokenLifecycleConfig, TokenLifecycleOptions, TokenRequest } from './token-lifecycle'
export { FAIL_FAST_MS, LIFECYCLE_OPTION_NAMES, lifecycleOptions, MAX_THROTTLE_MS, TOKEN_CACHE_TIMEOUT_MS, TokenLifecycle } from './token-lifecycle'
export type { ManagedCredentialOptions, TokenManagerStartOptions } from './token-manager'
export { TokenManager } from './token-manager'
export type { TokenResponse } from './token-response'
export { MAX_ACCESS_TOKEN_LENGTH, MAX_TOKEN_LIFETIME_MS, MIN_TOKEN_LIFETIME_MS, parseTokenResponse, toAccessToken } from './token-response'
export type { InteractiveSignIn, SignOutOptions, UserCredentialOptions, UserTokenLifecycleConfig } from './user-token-lifecycle'
export { USER_SCOPES, UserTokenLifecycle } from './user-token-lifecycle'
export type { AuthorityHostOptions } from './validate'
export {
  assertAppOnlyTenant,
  assertConfig,
  assertNonEmpty,
  assertTenantId,
  checkNumber,
  DEFAULT_AUTHORITY_HOST,
  isLoopbackHostname,
  MAX_SCOPE_LENGTH,
  MAX_SCOPES,
  normalizeAuthorityHost,
  normalizeScopes,
} from './validate'
