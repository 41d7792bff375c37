// What both builds export unchanged; index.ts (WebCrypto) and index.node.ts (node:crypto) add the factories.
export type { CosmosMasterKeySigner, CosmosSignableRequest } from './cosmos-master-key'
export { cosmosStringToSign } from './cosmos-master-key'
export type { AccountSasOptions, SasCommonOptions, ServiceSasOptions, ServiceSasResource } from './sas-generation'
export { DEFAULT_SAS_VERSION, generateAccountSas, generateServiceSas } from './sas-generation'
export type { SharedKeyScheme, SharedKeySigner, SharedKeySignerOptions } from './shared-key-signer'
export type { SignableRequest } from './storage-string-to-sign'
export { storageStringToSign } from './storage-string-to-sign'
export { tableLiteStringToSign, tableStringToSign } from './table-string-to-sign'
