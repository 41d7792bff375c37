import type { AzureCloud } from './azure-cloud'

// One constant per cloud, so a bundler keeps only the ones a program imports.

/** Azure public cloud (the default). */
export const AzurePublicCloud: AzureCloud = {
  name: 'AzurePublicCloud',
  authorityHost: 'https://login.microsoftonline.com',
  resourceManagerEndpoint: 'https://management.azure.com',
  resourceManagerScope: 'https://management.azure.com/.default',
  graphEndpoint: 'https://graph.microsoft.com',
  graphScope: 'https://graph.microsoft.com/.default',
  storageSuffix: 'core.windows.net',
  storageScope: 'https://storage.azure.com/.default',
  keyVaultSuffix: 'vault.azure.net',
  keyVaultScope: 'https://vault.azure.net/.default',
  sqlServerSuffix: 'database.windows.net',
  sqlScope: 'https://database.windows.net/.default',
  tokenExchangeAudience: 'api://AzureADTokenExchange',
}

/** Azure US Government. */
export const AzureUSGovernment: AzureCloud = {
  name: 'AzureUSGovernment',
  authorityHost: 'https://login.microsoftonline.us',
  resourceManagerEndpoint: 'https://management.usgovcloudapi.net',
  resourceManagerScope: 'https://management.usgovcloudapi.net/.default',
  graphEndpoint: 'https://graph.microsoft.us',
  graphScope: 'https://graph.microsoft.us/.default',
  storageSuffix: 'core.usgovcloudapi.net',
  storageScope: 'https://storage.azure.com/.default',
  keyVaultSuffix: 'vault.usgovcloudapi.net',
  keyVaultScope: 'https://vault.usgovcloudapi.net/.default',
  sqlServerSuffix: 'database.usgovcloudapi.net',
  sqlScope: 'https://database.usgovcloudapi.net/.default',
  tokenExchangeAudience: 'api://AzureADTokenExchangeUSGov',
}

/** Azure operated by 21Vianet (China). */
export const AzureChinaCloud: AzureCloud = {
  name: 'AzureChinaCloud',
  authorityHost: 'https://login.chinacloudapi.cn',
  resourceManagerEndpoint: 'https://management.chinacloudapi.cn',
  resourceManagerScope: 'https://management.chinacloudapi.cn/.default',
  graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn',
  graphScope: 'https://microsoftgraph.chinacloudapi.cn/.default',
  storageSuffix: 'core.chinacloudapi.cn',
  storageScope: 'https://storage.azure.com/.default',
  keyVaultSuffix: 'vault.azure.cn',
  keyVaultScope: 'https://vault.azure.cn/.default',
  sqlServerSuffix: 'database.chinacloudapi.cn',
  sqlScope: 'https://database.chinacloudapi.cn/.default',
  tokenExchangeAudience: 'api://AzureADTokenExchangeChina',
}

/**
 * Azure Germany (Microsoft Cloud Deutschland). Retired: it closed in October 2021 and accepts no
 * sign-ins. Kept so old configuration fails with a clear message rather than an unknown name.
 */
export const AzureGermanCloud: AzureCloud = {
  name: 'AzureGermanCloud',
  authorityHost: 'https://login.microsoftonline.de',
  resourceManagerEndpoint: 'https://management.microsoftazure.de',
  resourceManagerScope: 'https://management.microsoftazure.de/.default',
  graphEndpoint: 'https://graph.microsoft.de',
  graphScope: 'https://graph.microsoft.de/.default',
  storageSuffix: 'core.cloudapi.de',
  storageScope: 'https://storage.azure.com/.default',
  keyVaultSuffix: 'vault.microsoftazure.de',
  keyVaultScope: 'https://vault.microsoftazure.de/.default',
  sqlServerSuffix: 'database.cloudapi.de',
  sqlScope: 'https://database.cloudapi.de/.default',
  tokenExchangeAudience: 'api://AzureADTokenExchange',
  retired: true,
}
