import * as crypto from 'node:crypto'
import type { HmacSigner } from './hmac-webcrypto'
import { decodeAccountKey } from './hmac-webcrypto'

const BLOCK = 64 // SHA-256 block size
const SCRATCH = 4096 // strings up to a third of this are signed without allocating

/**
 * HMAC-SHA256 on `node:crypto`, synchronous. RFC 2104 written out over one-shot hashes:
 * H((K ^ opad) || H((K ^ ipad) || m)), with both padded keys prepared once and the message encoded
 * into a reused buffer, which is faster than a `createHmac` per signature. Falls back to `createHmac`
 * for long strings and on Node versions without `crypto.hash` (before 20.12).
 */
export function createNodeHmac(accountKey: string): HmacSigner {
  const key = Buffer.from(decodeAccountKey(accountKey))
  const hash = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'latin1' | 'base64') => string }).hash
  const slow = (stringToSign: string) => crypto.createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64')
  if (typeof hash !== 'function') return slow
  const block = Buffer.alloc(BLOCK)
  if (key.length > BLOCK) crypto.createHash('sha256').update(key).digest().copy(block)
  else key.copy(block)
  const inner = Buffer.alloc(BLOCK + SCRATCH)
  const outer = Buffer.alloc(BLOCK + 32)
  for (let index = 0; index < BLOCK; index += 1) {
    inner[index] = (block[index] as number) ^ 0x36
    outer[index] = (block[index] as number) ^ 0x5c
  }
  block.fill(0)
  // The views of `inner` hashed so far, by message length: at most SCRATCH / 3 of them, each reused.
  const views: Buffer[] = []
  // encodeInto: faster than Buffer's write (the same UTF-8, lone surrogates as U+FFFD).
  const encoder = new TextEncoder()
  const scratch = inner.subarray(BLOCK)
  return (stringToSign) => {
    // A UTF-16 code unit never takes more than three UTF-8 bytes.
    if (stringToSign.length * 3 > SCRATCH) return slow(stringToSign)
    const length = encoder.encodeInto(stringToSign, scratch).written
    if (views[length] === undefined) views[length] = inner.subarray(0, BLOCK + length)
    // The inner digest as a latin1 string (byte for byte): crypto.hash returns that faster than a Buffer.
    outer.write(hash('sha256', views[length] as Buffer, 'latin1'), BLOCK, 'latin1')
    return hash('sha256', outer, 'base64')
  }
}
