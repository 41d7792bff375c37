import { AzcredError } from '@azcred/core'
import type { SharedKeySigner } from './shared-key-signer'

/** Default `sv` of generated signatures. */
export const DEFAULT_SAS_VERSION = '2025-01-05'

/** What every SAS states. */
export interface SasCommonOptions {
  /** Permission letters, such as `rl` or `racwdl`, in the service's documented order. */
  permissions?: string
  /** When the SAS stops working. Required unless a stored access policy (`identifier`) sets it. */
  expiresOn?: Date
  /** When it starts working. Default: at once. */
  startsOn?: Date
  /** One address or a range, such as `168.1.5.60-168.1.5.70`. */
  ipRange?: string
  /** `https` or `https,http`. Default: either. */
  protocol?: 'https' | 'https,http'
  /** `sv`. Default 2025-01-05; versions before 2020-12-06 are refused (their string-to-sign differs). */
  version?: string
}

/** An account SAS: several services and resource types at once. */
export interface AccountSasOptions extends SasCommonOptions {
  /** `ss`: any of `b` (blob), `q` (queue), `t` (table), `f` (file). */
  services: string
  /** `srt`: any of `s` (service), `c` (container), `o` (object). */
  resourceTypes: string
  /** `ses`: an encryption scope for writes. */
  encryptionScope?: string
}

/** Which resource a service SAS is for. */
export type ServiceSasResource =
  | { kind: 'container'; container: string }
  | { kind: 'blob'; container: string; blob: string }
  | { kind: 'queue'; queue: string }
  | { kind: 'table'; table: string; startPartitionKey?: string; startRowKey?: string; endPartitionKey?: string; endRowKey?: string }
  | { kind: 'share'; share: string }
  | { kind: 'file'; share: string; path: string }

/** A service SAS: one container, blob, queue, table, share or file. */
export interface ServiceSasOptions extends SasCommonOptions {
  resource: ServiceSasResource
  /** `si`: a stored access policy on the container, queue, table or share. */
  identifier?: string
  /** `ses` (blob only). */
  encryptionScope?: string
  /** Response header overrides (blob and file only): `rscc`, `rscd`, `rsce`, `rscl`, `rsct`. */
  cacheControl?: string
  contentDisposition?: string
  contentEncoding?: string
  contentLanguage?: string
  contentType?: string
}

/** `2026-11-22T10:00:00Z`: ISO 8601 in UTC without milliseconds, as the services expect. */
function sasTime(date: Date | undefined): string {
  return date === undefined ? '' : date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function check(options: SasCommonOptions & { identifier?: string }): string {
  const version = options.version ?? DEFAULT_SAS_VERSION
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version) || version < '2020-12-06') {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'SAS version must be 2020-12-06 or later (YYYY-MM-DD): leave options.version out for the default')
  }
  if (options.identifier === undefined && (options.expiresOn === undefined || options.permissions === undefined)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'a SAS needs permissions and expiresOn unless a stored access policy (identifier) provides them')
  }
  if (options.permissions !== undefined && !/^[a-z]+$/.test(options.permissions)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'permissions must be lower-case permission letters, such as rl or racwdl')
  }
  if (options.expiresOn !== undefined && Number.isNaN(options.expiresOn.getTime()))
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'expiresOn is not a valid date')
  return version
}

function query(entries: [string, string | undefined][]): string {
  const parameters = new URLSearchParams()
  for (const [name, value] of entries) if (value !== undefined && value !== '') parameters.append(name, value)
  return parameters.toString()
}

/**
 * An account SAS query string (without `?`), signed with the account key.
 * @throws AzcredError AZCRED_CONFIG_INVALID for missing permissions or expiry, or an old version.
 * @example const sas = await generateAccountSas(signer, { services: 'b', resourceTypes: 'co', permissions: 'rl', expiresOn })
 */
export async function generateAccountSas(signer: SharedKeySigner, options: AccountSasOptions): Promise<string> {
  const version = check(options)
  if (!/^[bqtf]+$/.test(options.services) || !/^[sco]+$/.test(options.resourceTypes)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'services must be letters from bqtf and resourceTypes letters from sco')
  }
  const start = sasTime(options.startsOn)
  const expiry = sasTime(options.expiresOn)
  const stringToSign = [
    signer.accountName,
    options.permissions,
    options.services,
    options.resourceTypes,
    start,
    expiry,
    options.ipRange ?? '',
    options.protocol ?? '',
    version,
    options.encryptionScope ?? '',
    '',
  ].join('\n')
  return query([
    ['sv', version],
    ['ss', options.services],
    ['srt', options.resourceTypes],
    ['sp', options.permissions],
    ['st', start],
    ['se', expiry],
    ['sip', options.ipRange],
    ['spr', options.protocol],
    ['ses', options.encryptionScope],
    ['sig', await signer.sign(stringToSign)],
  ])
}

/**
 * A service SAS query string (without `?`) for one container, blob, queue, table, share or file.
 * @throws AzcredError AZCRED_CONFIG_INVALID for missing permissions or expiry (without `identifier`), or an old version.
 * @example const sas = await generateServiceSas(signer, { resource: { kind: 'blob', container: 'c', blob: 'a.txt' }, permissions: 'r', expiresOn })
 */
export async function generateServiceSas(signer: SharedKeySigner, options: ServiceSasOptions): Promise<string> {
  const version = check(options)
  const account = signer.accountName
  const { resource } = options
  const head = [options.permissions ?? '', sasTime(options.startsOn), sasTime(options.expiresOn)]
  const common = [options.identifier ?? '', options.ipRange ?? '', options.protocol ?? '', version]
  const overrides = [options.cacheControl, options.contentDisposition, options.contentEncoding, options.contentLanguage, options.contentType].map(
    (value) => value ?? '',
  )
  let lines: string[]
  let extra: [string, string | undefined][] = []
  switch (resource.kind) {
    case 'container':
    case 'blob': {
      const path = resource.kind === 'blob' ? `/blob/${account}/${resource.container}/${resource.blob}` : `/blob/${account}/${resource.container}`
      const signedResource = resource.kind === 'blob' ? 'b' : 'c'
      lines = [...head, path, ...common, signedResource, '', options.encryptionScope ?? '', ...overrides]
      extra = [
        ['sr', signedResource],
        ['ses', options.encryptionScope],
      ]
      break
    }
    case 'share':
    case 'file': {
      const path = resource.kind === 'file' ? `/file/${account}/${resource.share}/${resource.path}` : `/file/${account}/${resource.share}`
      lines = [...head, path, ...common, ...overrides]
      extra = [['sr', resource.kind === 'file' ? 'f' : 's']]
      break
    }
    case 'queue':
      lines = [...head, `/queue/${account}/${resource.queue}`, ...common]
      break
    case 'table':
      lines = [
        ...head,
        `/table/${account}/${resource.table.toLowerCase()}`,
        ...common,
        resource.startPartitionKey ?? '',
        resource.startRowKey ?? '',
        resource.endPartitionKey ?? '',
        resource.endRowKey ?? '',
      ]
      extra = [
        ['tn', resource.table],
        ['spk', resource.startPartitionKey],
        ['srk', resource.startRowKey],
        ['epk', resource.endPartitionKey],
        ['erk', resource.endRowKey],
      ]
      break
  }
  const overrideParameters: [string, string | undefined][] =
    resource.kind === 'queue' || resource.kind === 'table'
      ? []
      : [
          ['rscc', options.cacheControl],
          ['rscd', options.contentDisposition],
          ['rsce', options.contentEncoding],
          ['rscl', options.contentLanguage],
          ['rsct', options.contentType],
        ]
  return query([
    ['sv', version],
    ['sp', options.permissions],
    ['st', head[1]],
    ['se', head[2]],
    ['sip', options.ipRange],
    ['spr', options.protocol],
    ['si', options.identifier],
    ...extra,
    ...overrideParameters,
    ['sig', await signer.sign(lines.join('\n'))],
  ])
}
