export type { EasyAuthCredential, EasyAuthCredentialOptions } from './easy-auth-credential'
export { easyAuthCredential } from './easy-auth-credential'
export type { EasyAuthRequest, HeaderRecord, HeadersLike } from './easy-auth-headers'
export { EASY_AUTH_HEADERS, MAX_HEADER_LENGTH } from './easy-auth-headers'
export type { EasyAuthClaim, EasyAuthPrincipal } from './easy-auth-principal'
export { MAX_PRINCIPAL_CLAIMS } from './easy-auth-principal'
export type { EasyAuthTrustOptions } from './easy-auth-session'
export {
  EASY_AUTH_EXPIRY_MARGIN_MS,
  EASY_AUTH_PATHS,
  EasyAuthInteractionRequiredError,
  ENV_WEBSITE_AUTH_CLIENT_ID,
  ENV_WEBSITE_AUTH_ENABLED,
  readEasyAuthPrincipal,
} from './easy-auth-session'
