import { AzcredError, normalizeAuthorityHost } from '@azcred/core'
import type { AzureCloud } from './azure-cloud'

/** What a custom cloud (Azure Stack Hub, a private emulator) must state; the rest is derived. */
export type CustomCloudOptions = Pick<AzureCloud, 'name' | 'authorityHost' | 'resourceManagerEndpoint'> &
  Partial<Omit<AzureCloud, 'name' | 'authorityHost' | 'resourceManagerEndpoint'>> & {
    /** Allow an `http:` loopback authority host (an emulator). Default false. */
    allowInsecureConnection?: boolean
  }

function scopeOf(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/.default`
}

/**
 * Describes a custom cloud. Scopes default to `{endpoint}/.default`; suffixes you leave out are
 * empty strings, so building a URL from one fails visibly rather than hitting the public cloud.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a missing name or a non-https authority host.
 * @example const stack = defineCloud({ name: 'MyStack', authorityHost: 'https://adfs.local/adfs', resourceManagerEndpoint: 'https://management.local' })
 */
export function defineCloud(options: CustomCloudOptions): AzureCloud {
  if (typeof options.name !== 'string' || options.name.trim() === '') {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'defineCloud: name is missing: give the cloud a short name')
  }
  const authorityHost = normalizeAuthorityHost(options.authorityHost, {
    allowInsecureConnection: options.allowInsecureConnection,
    optionName: 'defineCloud authorityHost',
  })
  const resourceManagerEndpoint = options.resourceManagerEndpoint.replace(/\/+$/, '')
  const graphEndpoint = options.graphEndpoint ?? ''
  return {
    name: options.name,
    authorityHost,
    resourceManagerEndpoint,
    resourceManagerScope: options.resourceManagerScope ?? scopeOf(resourceManagerEndpoint),
    graphEndpoint,
    graphScope: options.graphScope ?? (graphEndpoint === '' ? '' : scopeOf(graphEndpoint)),
    storageSuffix: options.storageSuffix ?? '',
    storageScope: options.storageScope ?? 'https://storage.azure.com/.default',
    keyVaultSuffix: options.keyVaultSuffix ?? '',
    keyVaultScope: options.keyVaultScope ?? (options.keyVaultSuffix ? `https://${options.keyVaultSuffix}/.default` : ''),
    sqlServerSuffix: options.sqlServerSuffix ?? '',
    sqlScope: options.sqlScope ?? (options.sqlServerSuffix ? `https://${options.sqlServerSuffix}/.default` : ''),
    tokenExchangeAudience: options.tokenExchangeAudience ?? 'api://AzureADTokenExchange',
    retired: options.retired ?? false,
  }
}
