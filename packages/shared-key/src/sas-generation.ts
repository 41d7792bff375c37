import { AzcredError } from '@azcred/core'
import type { SharedKeySigner } from './shared-key-signer'
import { CONTROL, controlError } from './storage-string-to-sign'

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

/**
 * A field of the string-to-sign: '' when absent.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the option for a non-string or a line break or
 * control character (two different SAS would otherwise share one string-to-sign).
 */
function text(name: string, value: unknown): string {
  if (value === undefined) return ''
  if (typeof value !== 'string') throw new AzcredError('AZCRED_CONFIG_INVALID', `${name} must be a string`)
  if (CONTROL.test(value)) throw controlError(name)
  return value
}

/** `2026-11-22T10:00:00Z`: ISO 8601 in UTC without milliseconds, as the services expect. */
function sasTime(name: string, date: Date | undefined): string {
  if (date === undefined) return ''
  if (typeof date?.getTime !== 'function' || Number.isNaN(date.getTime())) throw new AzcredError('AZCRED_CONFIG_INVALID', `${name} is not a valid Date`)
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** What every SAS checks and signs alike: [version, permissions, start, expiry, ipRange, protocol]. */
function common(signer: SharedKeySigner, options: SasCommonOptions & { identifier?: string }): [string, string, string, string, string, string] {
  if (typeof signer?.sign !== 'function') throw new AzcredError('AZCRED_CONFIG_INVALID', 'pass a signer from createSharedKeySigner')
  if (typeof options !== 'object' || options === null) throw new AzcredError('AZCRED_CONFIG_INVALID', 'SAS options are missing')
  const version = options.version ?? DEFAULT_SAS_VERSION
  if (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(version) || version < '2020-12-06') {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'SAS version must be 2020-12-06 or later (YYYY-MM-DD): leave options.version out for the default')
  }
  if (options.identifier === undefined && (options.expiresOn === undefined || options.permissions === undefined)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'a SAS needs permissions and expiresOn unless a stored access policy (identifier) provides them')
  }
  if (options.permissions !== undefined && !/^[a-z]+$/.test(options.permissions)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'permissions must be lower-case permission letters, such as rl or racwdl')
  }
  if (options.protocol !== undefined && options.protocol !== 'https' && options.protocol !== 'https,http') {
    throw new AzcredError('AZCRED_CONFIG_INVALID', "protocol must be 'https' or 'https,http'")
  }
  return [
    version,
    options.permissions ?? '',
    sasTime('startsOn', options.startsOn),
    sasTime('expiresOn', options.expiresOn),
    text('ipRange', options.ipRange),
    options.protocol ?? '',
  ]
}

function query(entries: [string, string | undefined][]): string {
  const parameters = new URLSearchParams()
  for (const [name, value] of entries) if (value !== undefined && value !== '') parameters.append(name, value)
  return parameters.toString()
}

/**
 * An account SAS query string (without `?`), signed with the account key.
 * @throws AzcredError AZCRED_CONFIG_INVALID (rejected promise) for missing permissions or expiry, an old version,
 * an invalid date, or a line break or control character in any signed option (the message names it).
 * @example const sas = await generateAccountSas(signer, { services: 'b', resourceTypes: 'co', permissions: 'rl', expiresOn })
 */
export async function generateAccountSas(signer: SharedKeySigner, options: AccountSasOptions): Promise<string> {
  const [version, permissions, start, expiry, ipRange, protocol] = common(signer, options)
  if (!/^[bqtf]+$/.test(options.services) || !/^[sco]+$/.test(options.resourceTypes)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'services must be letters from bqtf and resourceTypes letters from sco')
  }
  const encryptionScope = text('encryptionScope', options.encryptionScope)
  const stringToSign = [
    signer.accountName,
    permissions,
    options.services,
    options.resourceTypes,
    start,
    expiry,
    ipRange,
    protocol,
    version,
    encryptionScope,
    '',
  ].join('\n')
  return query([
    ['sv', version],
    ['ss', options.services],
    ['srt', options.resourceTypes],
    ['sp', permissions],
    ['st', start],
    ['se', expiry],
    ['sip', ipRange],
    ['spr', protocol],
    ['ses', encryptionScope],
    ['sig', await signer.sign(stringToSign)],
  ])
}

/**
 * A service SAS query string (without `?`) for one container, blob, queue, table, share or file.
 * @throws AzcredError AZCRED_CONFIG_INVALID (rejected promise) for missing permissions or expiry (without
 * `identifier`), an old version, an invalid date, a missing resource name, or a line break or control character in
 * any signed option or resource name (the message names it, never its value).
 * @example const sas = await generateServiceSas(signer, { resource: { kind: 'blob', container: 'c', blob: 'a.txt' }, permissions: 'r', expiresOn })
 */
export async function generateServiceSas(signer: SharedKeySigner, options: ServiceSasOptions): Promise<string> {
  const [version, permissions, start, expiry, ipRange, protocol] = common(signer, options)
  const account = signer.accountName
  const { resource } = options
  // A resource name is part of the signed path: required, and one line.
  const named = (key: string): string => {
    const value = text(`resource.${key}`, (resource as unknown as Record<string, unknown>)[key])
    if (value === '') throw new AzcredError('AZCRED_CONFIG_INVALID', `resource.${key} is missing: name the ${resource.kind}'s ${key}`)
    return value
  }
  const optional = (key: string): string => text(`resource.${key}`, (resource as unknown as Record<string, unknown>)[key])
  const identifier = text('identifier', options.identifier)
  const head = [permissions, start, expiry]
  const tail = [identifier, ipRange, protocol, version]
  const overrides = [
    text('cacheControl', options.cacheControl),
    text('contentDisposition', options.contentDisposition),
    text('contentEncoding', options.contentEncoding),
    text('contentLanguage', options.contentLanguage),
    text('contentType', options.contentType),
  ]
  const encryptionScope = text('encryptionScope', options.encryptionScope)
  let lines: string[]
  let extra: [string, string][] = []
  switch (resource?.kind) {
    case 'container':
    case 'blob': {
      const path = `/blob/${account}/${named('container')}${resource.kind === 'blob' ? `/${named('blob')}` : ''}`
      const signedResource = resource.kind === 'blob' ? 'b' : 'c'
      lines = [...head, path, ...tail, signedResource, '', encryptionScope, ...overrides]
      extra = [
        ['sr', signedResource],
        ['ses', encryptionScope],
      ]
      break
    }
    case 'share':
    case 'file': {
      const path = `/file/${account}/${named('share')}${resource.kind === 'file' ? `/${named('path')}` : ''}`
      lines = [...head, path, ...tail, ...overrides]
      extra = [['sr', resource.kind === 'file' ? 'f' : 's']]
      break
    }
    case 'queue':
      lines = [...head, `/queue/${account}/${named('queue')}`, ...tail]
      break
    case 'table': {
      const keys = [optional('startPartitionKey'), optional('startRowKey'), optional('endPartitionKey'), optional('endRowKey')]
      lines = [...head, `/table/${account}/${named('table').toLowerCase()}`, ...tail, ...keys]
      extra = [
        ['tn', resource.table],
        ['spk', keys[0] as string],
        ['srk', keys[1] as string],
        ['epk', keys[2] as string],
        ['erk', keys[3] as string],
      ]
      break
    }
    default:
      throw new AzcredError('AZCRED_CONFIG_INVALID', "resource.kind must be 'container', 'blob', 'queue', 'table', 'share' or 'file'")
  }
  const overrideParameters: [string, string][] =
    resource.kind === 'queue' || resource.kind === 'table'
      ? []
      : [
          ['rscc', overrides[0] as string],
          ['rscd', overrides[1] as string],
          ['rsce', overrides[2] as string],
          ['rscl', overrides[3] as string],
          ['rsct', overrides[4] as string],
        ]
  return query([
    ['sv', version],
    ['sp', permissions],
    ['st', start],
    ['se', expiry],
    ['sip', ipRange],
    ['spr', protocol],
    ['si', identifier],
    ...extra,
    ...overrideParameters,
    ['sig', await signer.sign(lines.join('\n'))],
  ])
}
