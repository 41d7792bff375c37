export type { AssertionSource, ClientAssertionCredentialOptions } from './client-assertion-credential'
export { ClientAssertionCredential } from './client-assertion-credential'
