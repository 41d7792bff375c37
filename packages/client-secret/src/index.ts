export { ClientSecretCredential } from './client-secret-credential'
export type { ClientSecretCredentialOptions } from './client-secret-credential'
