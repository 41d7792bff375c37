export type { AzureKeyCredentialOptions } from './azure-key-credential'
export { AzureKeyCredential } from './azure-key-credential'
export { AzureNamedKeyCredential } from './azure-named-key-credential'
export { AzureSASCredential, AzureSasCredential } from './azure-sas-credential'
