import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto'
import { AzcredError } from '@azcred/core'

/** Length of an encryption key, in bytes (AES-256). */
export const ENCRYPTION_KEY_BYTES = 32

// Every stored value starts with this: the format's version (AES-256-GCM, 12-byte IV, 16-byte tag, base64).
const VALUE_PREFIX = 'v1.'
const IV_BYTES = 12
const TAG_BYTES = 16

/** The keys derived from one user key: one encrypts values, the other names entries. Never leave this module's closures. */
export interface DerivedKey {
  /** A KeyObject: imported once, so each value costs no key set-up (about half of a decryption's time). */
  encrypt: KeyObject
  name: KeyObject
}

/**
 * Checks the user's key (or key ring) and derives, for each, an encryption key and a key for entry
 * names with HKDF-SHA-256 (distinct `info` strings), so that the raw key is used for nothing directly.
 */
export function deriveKeys(encryptionKey: unknown): DerivedKey[] {
  const keys = Array.isArray(encryptionKey) ? encryptionKey : [encryptionKey]
  if (keys.length < 1 || keys.length > 16 || !keys.every((key) => key instanceof Uint8Array && key.byteLength === ENCRYPTION_KEY_BYTES)) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      'encryptionKey must be 32 random bytes (a Uint8Array or Buffer, such as Buffer.from(process.env.TOKEN_CACHE_KEY, "base64")) or an array of 1 to 16 of them, the newest first',
    )
  }
  return keys.map((key: Uint8Array) => {
    const material = Buffer.from(key)
    const derive = (info: string): KeyObject =>
      createSecretKey(Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), `azcred/token-cache-redis/v1/${info}`, 32)))
    return { encrypt: derive('encrypt'), name: derive('name') }
  })
}

/** The Redis-side name of a partition key: HMAC-SHA-256 under the name key, base64url (43 characters). */
export function entryName(key: DerivedKey, partitionKey: string): string {
  return createHmac('sha256', key.name).update(partitionKey, 'utf8').digest('base64url')
}

/**
 * Encrypts `plaintext` with AES-256-GCM under a fresh random IV. The partition key is the additional
 * authenticated data, so a value copied under another entry's name does not decrypt there.
 */
export function seal(key: DerivedKey, plaintext: string, partitionKey: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key.encrypt, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(partitionKey, 'utf8'))
  const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
  return VALUE_PREFIX + body.toString('base64')
}

/** Decrypts a value made by {@link seal}, or returns undefined for anything else (another key, garbage, too long). Never throws. */
export function open(key: DerivedKey, value: unknown, partitionKey: string, maxLength: number): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(VALUE_PREFIX) || value.length > maxLength) return undefined
  try {
    const body = Buffer.from(value.slice(VALUE_PREFIX.length), 'base64')
    if (body.length < IV_BYTES + TAG_BYTES) return undefined
    const decipher = createDecipheriv('aes-256-gcm', key.encrypt, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(partitionKey, 'utf8'))
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
    return decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES), undefined, 'utf8') + decipher.final('utf8')
  } catch {
    return undefined
  }
}

/** A random lock owner value (128 bits, base64url). */
export function lockOwner(): string {
  return randomBytes(16).toString('base64url')
}
