export { clientSecretAuthentication } from './client-secret-authentication'
export type { ClientSecretCredentialOptions } from './client-secret-credential'
export { ClientSecretCredential } from './client-secret-credential'
