export type { ClientCertificateCredentialOptions, ClientCertificatePemConfiguration } from './client-certificate-credential'
export { ClientCertificateCredential } from './client-certificate-credential'
