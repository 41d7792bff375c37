import { buildCosmosMasterKeySigner, type CosmosMasterKeySigner } from './cosmos-master-key'
import { createNodeHmac } from './hmac-node'
import { buildSharedKeySigner, type SharedKeySigner, type SharedKeySignerOptions } from './shared-key-signer'

export * from './shared-key-exports'

/**
 * A Storage Shared Key signer (Blob, Queue, File) on `node:crypto`: the key is decoded once and each
 * signature is computed synchronously. Same API as the WebCrypto build.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a bad account name or a key that is not base64.
 * @example const signer = createSharedKeySigner({ accountName: 'devstoreaccount1', accountKey })
 */
export function createSharedKeySigner(options: SharedKeySignerOptions): SharedKeySigner {
  return buildSharedKeySigner(options, createNodeHmac)
}

/**
 * A Cosmos DB master-key signer: `authorization` is `type=master&ver=1.0&sig=…` URL-encoded, over the
 * verb, resource type, resource link and date.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a key that is not base64.
 * @example const cosmos = createCosmosMasterKeySigner({ masterKey }); await cosmos.authorize({ method: 'GET', resourceType: 'dbs', resourceLink: 'dbs/orders' })
 */
export function createCosmosMasterKeySigner(options: { masterKey: string }): CosmosMasterKeySigner {
  return buildCosmosMasterKeySigner(options, createNodeHmac)
}
