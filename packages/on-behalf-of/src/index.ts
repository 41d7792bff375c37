export type { ClaimsChallengeOptions } from './claims-challenge'
export { claimsChallengeHeader } from './claims-challenge'
export type {
  OnBehalfOfCredentialAssertionOptions,
  OnBehalfOfCredentialBaseOptions,
  OnBehalfOfCredentialCertificateOptions,
  OnBehalfOfCredentialClientAuthenticationOptions,
  OnBehalfOfCredentialOptions,
  OnBehalfOfCredentialSecretOptions,
} from './on-behalf-of-credential'
export { OnBehalfOfCredential } from './on-behalf-of-credential'
export type { OnBehalfOfUserCacheOptions } from './on-behalf-of-user-cache'
export { OnBehalfOfUserCache } from './on-behalf-of-user-cache'
