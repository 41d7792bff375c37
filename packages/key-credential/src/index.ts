export type { AzureKeyCredentialOptions } from './azure-key-credential'
export { AzureKeyCredential } from './azure-key-credential'
export { AzureNamedKeyCredential } from './azure-named-key-credential'
export { AzureSasCredential } from './azure-sas-credential'
