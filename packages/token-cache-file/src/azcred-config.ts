import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { AzcredError, ENV_AUTHORITY_HOST, ENV_CLIENT_ID, ENV_TENANT_ID } from '@azcred/core'
import { userDirectories } from './token-cache-file-paths'

/** The environment variable naming the manifest file (default: `config.json` in the platform's user config directory). */
export const ENV_AZCRED_CONFIG = 'AZCRED_CONFIG'

/** The flows a manifest may name as `defaultFlow`. */
export const AZCRED_FLOWS = [
  'device-code',
  'interactive-browser',
  'azure-cli',
  'managed-identity',
  'workload-identity',
  'client-secret',
  'client-certificate',
  'environment',
] as const

/**
 * The manifest: defaults a tool or credential uses when neither options nor environment variables give them.
 * It never holds a secret.
 * @public
 */
export interface AzcredConfig {
  /** Tenant id or domain (`organizations`, `common`, a GUID, `contoso.onmicrosoft.com`). */
  tenantId?: string
  /** The app's client id. */
  clientId?: string
  /** The flow a tool signs in with when none is named: one of {@link AZCRED_FLOWS}. */
  defaultFlow?: (typeof AZCRED_FLOWS)[number]
  /** The cloud: a name (`AzurePublicCloud`, `AzureUSGovernment`, `AzureChinaCloud`) or an authority host URL (`https://…`). */
  cloud?: string
}

/**
 * Options of {@link readAzcredConfig}.
 * @public
 */
export interface ReadAzcredConfigOptions {
  /** The manifest file. Default: `AZCRED_CONFIG`, else `config.json` in the user config directory (`~/.config/azcred` on Linux). */
  path?: string
}

/**
 * The defaults for a credential, with where each came from.
 * @public
 */
export interface AzcredDefaults extends AzcredConfig {
  /** `'option'`, `'environment'` or `'manifest'` for each value present. */
  sources: Partial<Record<keyof AzcredConfig, 'option' | 'environment' | 'manifest'>>
}

const MAX_MANIFEST_BYTES = 65_536
const FIELDS = ['tenantId', 'clientId', 'defaultFlow', 'cloud'] as const
// Names that would mean a secret was written into the manifest.
const SECRET_NAME = /secret|password|token|assertion|private|certificate|key|credential/i

/** A field name as an error shows it: printable ASCII only (no terminal escapes, no line breaks), at most 40 characters. */
const shown = (field: string): string => field.replace(/[^ -~]/g, '?').slice(0, 40)

const invalid = (path: string, problem: string): AzcredError =>
  new AzcredError('AZCRED_CONFIG_INVALID', `the azcred manifest ${path} ${problem}: fix or remove it (set ${ENV_AZCRED_CONFIG} to use another file)`)

/** The manifest's path: the option, else `AZCRED_CONFIG`, else `<user config directory>/config.json`. */
export function azcredConfigPath(options: ReadAzcredConfigOptions = {}): string {
  return resolve(options?.path ?? (process.env[ENV_AZCRED_CONFIG] || join(userDirectories().config, 'config.json')))
}

/**
 * Reads the manifest (JSON, at most 64 KiB): `{ "version": 1, "tenantId"?, "clientId"?, "defaultFlow"?, "cloud"? }`.
 * A missing file gives `{}`. Synchronous, so a credential's constructor can use it.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the file when it is not such JSON, names an unknown field,
 *   holds a field whose name suggests a secret (`clientSecret`, `password`, `refreshToken`, … — secrets never go
 *   in the manifest), or (POSIX) is another user's or writable by group or others (it picks the authority tokens are asked from).
 * @example const { tenantId, clientId } = readAzcredConfig()
 * @public
 */
export function readAzcredConfig(options: ReadAzcredConfigOptions = {}): AzcredConfig {
  const path = azcredConfigPath(options)
  let descriptor: number
  try {
    // O_NONBLOCK: a FIFO or device named as the manifest opens at once and is refused below, instead of
    // blocking this synchronous read (and the process) until some writer comes.
    descriptor = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return {}
    throw invalid(path, `cannot be read (${(error as { code?: unknown }).code ?? 'error'})`)
  }
  let text: string
  try {
    const stats = fstatSync(descriptor)
    if (!stats.isFile()) throw invalid(path, 'is not a regular file')
    if (process.platform !== 'win32') {
      const uid = process.getuid?.()
      if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) throw invalid(path, `is owned by another user (uid ${stats.uid})`)
      if ((stats.mode & 0o022) !== 0) throw invalid(path, `is writable by other users (mode 0${(stats.mode & 0o777).toString(8)}; run "chmod 644 ${path}")`)
    }
    const buffer = Buffer.alloc(MAX_MANIFEST_BYTES + 1)
    const length = readSync(descriptor, buffer, 0, buffer.length, 0)
    if (length > MAX_MANIFEST_BYTES) throw invalid(path, `is longer than ${MAX_MANIFEST_BYTES} bytes`)
    text = buffer.subarray(0, length).toString('utf8')
  } finally {
    closeSync(descriptor)
  }
  let manifest: Record<string, unknown>
  try {
    manifest = JSON.parse(text)
  } catch {
    throw invalid(path, 'is not JSON')
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) throw invalid(path, 'is not a JSON object')
  if (manifest.version !== undefined && manifest.version !== 1) throw invalid(path, 'has a "version" other than 1 (written by a newer azcred?)')
  const config: AzcredConfig = {}
  for (const [field, value] of Object.entries(manifest)) {
    if (field === 'version' || field === '$schema' || field === 'comment') continue
    if (SECRET_NAME.test(field)) {
      throw invalid(
        path,
        `has a field "${shown(field)}" that looks like a secret; a manifest never holds secrets (use environment variables or a key vault) — remove it`,
      )
    }
    if (!(FIELDS as readonly string[]).includes(field)) throw invalid(path, `has an unknown field "${shown(field)}" (known: ${FIELDS.join(', ')})`)
    if (typeof value !== 'string' || value === '' || value.length > 256 || /[^\x21-\x7e]/.test(value)) {
      throw invalid(path, `has a "${field}" that is not a printable string of 1 to 256 characters`)
    }
    if (field === 'defaultFlow' && !(AZCRED_FLOWS as readonly string[]).includes(value))
      throw invalid(path, `has a "defaultFlow" that is none of ${AZCRED_FLOWS.join(', ')}`)
    if (field === 'cloud' && value.includes('/') && !value.startsWith('https://')) throw invalid(path, 'has a "cloud" URL that is not https://')
    ;(config as Record<string, string>)[field] = value
  }
  return config
}

/**
 * The defaults for a credential: `options` win over the environment (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
 * `AZURE_AUTHORITY_HOST` for `cloud`), which wins over the manifest ({@link readAzcredConfig}).
 * @throws AzcredError AZCRED_CONFIG_INVALID from {@link readAzcredConfig}.
 * @example const { tenantId = 'organizations', clientId } = azcredDefaults({ tenantId: options.tenantId })
 * @public
 */
export function azcredDefaults(options: AzcredConfig = {}, readOptions: ReadAzcredConfigOptions = {}): AzcredDefaults {
  const environment: AzcredConfig = {
    tenantId: process.env[ENV_TENANT_ID] || undefined,
    clientId: process.env[ENV_CLIENT_ID] || undefined,
    cloud: process.env[ENV_AUTHORITY_HOST] || undefined,
  }
  const manifest = readAzcredConfig(readOptions)
  const defaults: AzcredDefaults = { sources: {} }
  for (const field of FIELDS) {
    const [value, source] =
      options?.[field] !== undefined
        ? [options[field], 'option' as const]
        : environment[field] !== undefined
          ? [environment[field], 'environment' as const]
          : [manifest[field], 'manifest' as const]
    if (value !== undefined) {
      ;(defaults as unknown as Record<string, unknown>)[field] = value
      defaults.sources[field] = source
    }
  }
  return defaults
}
