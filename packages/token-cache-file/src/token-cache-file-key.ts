import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { AzcredError } from '@azcred/core'
import { readPrivateFile, writeNewPrivateFile } from './token-cache-file-fs'

/** The environment variable that may hold the cache key: 32 random bytes, base64 (`openssl rand -base64 32`). */
export const ENV_TOKEN_CACHE_KEY = 'AZCRED_TOKEN_CACHE_KEY'

/** Where the encryption key comes from. */
export type TokenCacheKeySource = 'environment' | 'keyring' | 'file'

/** The service name the key is stored under in the OS keyring (the account is the cache's name). */
export const KEYRING_SERVICE = 'azcred-token-cache'

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

/** A key and its public fingerprint (the first 16 hex digits of SHA-256 over a fixed label and the key). */
export interface CacheKey {
  readonly source: TokenCacheKeySource
  readonly id: string
  /** Never leaves this module's callers; not enumerable so inspect/JSON of a CacheKey shows no bytes. */
  readonly bytes: Buffer
}

function makeKey(source: TokenCacheKeySource, bytes: Buffer): CacheKey {
  const id = createHash('sha256').update('azcred/token-cache-file/v1/key-id').update(bytes).digest('hex').slice(0, 16)
  const key = { source, id } as CacheKey
  Object.defineProperty(key, 'bytes', { value: bytes, enumerable: false })
  return key
}

/** Decodes base64 text into exactly 32 bytes, or undefined. */
function decodeKey(text: string | null | undefined): Buffer | undefined {
  if (typeof text !== 'string') return undefined
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return undefined
  const bytes = Buffer.from(trimmed, 'base64')
  return bytes.length === KEY_BYTES ? bytes : undefined
}

/** The key in AZCRED_TOKEN_CACHE_KEY, undefined when unset. @throws AZCRED_CONFIG_INVALID when set but not 32 bytes of base64. */
export function environmentKey(environment: Record<string, string | undefined>): CacheKey | undefined {
  const text = environment[ENV_TOKEN_CACHE_KEY]
  if (text === undefined || text === '') return undefined
  const bytes = decodeKey(text)
  if (bytes === undefined) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `${ENV_TOKEN_CACHE_KEY} must be 32 random bytes in base64 (44 characters, such as the output of "openssl rand -base64 32")`,
    )
  }
  return makeKey('environment', bytes)
}

/** The shape of @napi-rs/keyring's Entry that is used. */
interface KeyringEntry {
  getPassword(): string | null | undefined
  setPassword(password: string): void
}

/**
 * The key kept in the OS keyring (macOS Keychain, Windows Credential Manager, Linux Secret Service)
 * through the optional `@napi-rs/keyring`, made on first use. Rejects when the binding is not installed
 * or the keyring cannot be reached (a headless Linux machine without a Secret Service): the caller
 * falls back to a key file. On Linux only the Secret Service is used (never the kernel keyring, which
 * does not outlive the login session).
 */
export async function keyringKey(name: string): Promise<CacheKey> {
  // Loaded only here: a missing optional dependency costs nothing elsewhere.
  const keyring = (await import('@napi-rs/keyring')) as unknown as {
    Entry: new (service: string, account: string, options?: { linux?: { store?: string } }) => KeyringEntry
  }
  // On Linux the Secret Service only: the kernel keyring (keyutils) forgets the key at logout or reboot,
  // which would make the cache unreadable. Pinned, an unavailable store throws instead of falling back.
  const entry = new keyring.Entry(KEYRING_SERVICE, name, { linux: { store: 'secret-service' } })
  let bytes = decodeKey(entry.getPassword())
  if (bytes === undefined) {
    entry.setPassword(randomBytes(KEY_BYTES).toString('base64'))
    // Read back: another process may have stored its key at the same moment; the stored one wins.
    bytes = decodeKey(entry.getPassword())
    if (bytes === undefined) throw new Error('the OS keyring did not keep the key')
  }
  return makeKey('keyring', bytes)
}

/**
 * The key in the key file at `path` (base64, mode 0600, owned by this user, not a symbolic link), made
 * on first use (unless `create` is false: then undefined when there is none). Two processes making it at once agree: the file is created with a link that fails when it exists.
 * @throws AzcredError AZCRED_CONFIG_INVALID when the file is refused or does not hold a key.
 */
export async function fileKey(path: string, create: false): Promise<CacheKey | undefined>
export async function fileKey(path: string, create?: true): Promise<CacheKey>
export async function fileKey(path: string, create = true): Promise<CacheKey | undefined> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const text = await readPrivateFile(path, 'token cache key file', 1024)
    if (text !== undefined) {
      const bytes = decodeKey(text.toString('utf8'))
      if (bytes === undefined) {
        throw new AzcredError(
          'AZCRED_CONFIG_INVALID',
          `the token cache key file ${path} does not hold a key (32 bytes, base64): move it away (the cache file encrypted with it can then not be read and is moved aside)`,
        )
      }
      return makeKey('file', bytes)
    }
    if (!create) return undefined
    if (await writeNewPrivateFile(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`)) continue
  }
  throw new AzcredError('AZCRED_CONFIG_INVALID', `the token cache key file ${path} could not be created`)
}

/** Encrypts `plaintext` with AES-256-GCM under a fresh 96-bit IV; `aad` is authenticated too. */
export function seal(key: CacheKey, plaintext: string, aad: string): { iv: string; tag: string; data: string } {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv)
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') }
}

/** Decrypts what {@link seal} made, or returns undefined (wrong key, changed bytes, garbage). Never throws. */
export function open(key: CacheKey, sealed: { iv?: unknown; tag?: unknown; data?: unknown }, aad: string): string | undefined {
  try {
    const { iv, tag, data } = sealed
    if (typeof iv !== 'string' || typeof tag !== 'string' || typeof data !== 'string') return undefined
    const ivBytes = Buffer.from(iv, 'base64')
    const tagBytes = Buffer.from(tag, 'base64')
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return undefined
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, ivBytes)
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(tagBytes)
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
