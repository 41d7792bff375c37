import { AzcredError, ENV_AUTHORITY_HOST, readEnv } from '@azcred/core'
import type { AzureCloud } from './azure-cloud'
import { AzureChinaCloud, AzureGermanCloud, AzurePublicCloud, AzureUSGovernment } from './clouds'

// This file imports every cloud; it is only bundled by programs that look clouds up by name or host.

/** The four built-in clouds. */
export const KNOWN_CLOUDS: readonly AzureCloud[] = [AzurePublicCloud, AzureUSGovernment, AzureChinaCloud, AzureGermanCloud]

function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase()
  } catch {
    return ''
  }
}

/** Finds a cloud by `name` (case-insensitive) or by its authority host URL. */
export function findCloud(nameOrAuthorityHost: string, custom: readonly AzureCloud[] = []): AzureCloud | undefined {
  const wanted = nameOrAuthorityHost.trim().toLowerCase()
  const host = hostOf(nameOrAuthorityHost)
  return [...custom, ...KNOWN_CLOUDS].find((cloud) => cloud.name.toLowerCase() === wanted || (host !== '' && hostOf(cloud.authorityHost) === host))
}

/**
 * The cloud `AZURE_AUTHORITY_HOST` points at, or the public cloud when it is unset.
 * @param custom clouds of your own (from `defineCloud`) to match as well.
 * @throws AzcredError AZCRED_CONFIG_INVALID when the variable names no known cloud, or a retired one.
 * @example const cloud = cloudFromEnvironment()
 */
export function cloudFromEnvironment(custom: readonly AzureCloud[] = []): AzureCloud {
  const authorityHost = readEnv(ENV_AUTHORITY_HOST)
  if (authorityHost === undefined) return AzurePublicCloud
  const cloud = findCloud(authorityHost, custom)
  if (cloud === undefined) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `${ENV_AUTHORITY_HOST} matches no known cloud: use one of ${KNOWN_CLOUDS.map((known) => known.authorityHost).join(', ')}, or describe yours with defineCloud() and pass it here`,
    )
  }
  if (cloud.retired === true) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `${ENV_AUTHORITY_HOST} points at ${cloud.name}, which is retired and accepts no sign-ins: move to another cloud`,
    )
  }
  return cloud
}
