export type { ClientCertificateAuthenticationOptions, ClientCertificatePemConfiguration } from './client-certificate-authentication'
export { clientCertificateAuthentication } from './client-certificate-authentication'
export type { ClientCertificateCredentialOptions } from './client-certificate-credential'
export { ClientCertificateCredential } from './client-certificate-credential'
