import { buildCosmosMasterKeySigner, type CosmosMasterKeySigner } from './cosmos-master-key'
import { createWebCryptoHmac } from './hmac-webcrypto'
import { buildSharedKeySigner, type SharedKeySigner, type SharedKeySignerOptions } from './shared-key-signer'

export * from './shared-key-exports'

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

/**
 * A Cosmos DB master-key signer: `authorization` is `type=master&ver=1.0&sig=…` URL-encoded, over the
 * verb, resource type, resource link and date.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a key that is not base64.
 * @example const cosmos = createCosmosMasterKeySigner({ masterKey }); await cosmos.authorize({ method: 'GET', resourceType: 'dbs', resourceLink: 'dbs/orders' })
 */
export function createCosmosMasterKeySigner(options: { masterKey: string }): CosmosMasterKeySigner {
  return buildCosmosMasterKeySigner(options, createWebCryptoHmac)
}
