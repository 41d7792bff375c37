import { createWebCryptoHmac } from './hmac-webcrypto'
import { buildSharedKeySigner, type SharedKeySigner, type SharedKeySignerOptions } from './shared-key-signer'

export type { SharedKeySigner, SharedKeySignerOptions } from './shared-key-signer'
export type { SignableRequest } from './storage-string-to-sign'
export { storageStringToSign } from './storage-string-to-sign'

/**
 * A Storage Shared Key signer (Blob, Queue, File) using WebCrypto, so it runs on every runtime; Node
 * resolves this package to the `node:crypto` build, which signs synchronously and faster.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a bad account name or a key that is not base64.
 * @example
 * const signer = createSharedKeySigner({ accountName: 'devstoreaccount1', accountKey })
 * const headers = { 'x-ms-version': '2025-01-05' }
 * Object.assign(headers, await signer.authorize({ method: 'GET', url, headers }))
 */
export function createSharedKeySigner(options: SharedKeySignerOptions): SharedKeySigner {
  return buildSharedKeySigner(options, createWebCryptoHmac)
}
