export type { AssertionSource, ClientAssertionAuthenticationOptions } from './client-assertion-authentication'
export { clientAssertionAuthentication } from './client-assertion-authentication'
export type { ClientAssertionCredentialOptions } from './client-assertion-credential'
export { ClientAssertionCredential } from './client-assertion-credential'
