import { AzcredError } from '@azcred/core'
import type { HmacSigner } from './hmac-webcrypto'
import { CONTROL, controlError, verb } from './storage-string-to-sign'

/** What a Cosmos DB master-key signature covers. */
export interface CosmosSignableRequest {
  /** HTTP verb. */
  method: string
  /** Resource type, such as `dbs`, `colls`, `docs`. */
  resourceType: string
  /** Resource link, case-sensitive, such as `dbs/orders/colls/2026` (empty to list databases). */
  resourceLink: string
  /** The `x-ms-date` to sign (RFC 1123). Default now. */
  date?: string
}

/** Signs Cosmos DB requests with the account's master key. */
export interface CosmosMasterKeySigner {
  /**
   * The headers to send: `x-ms-date` and `authorization` (`type=master&ver=1.0&sig=…`, URL-encoded).
   * @throws AzcredError (rejected promise) AZCRED_CONFIG_INVALID as {@link cosmosStringToSign} does.
   */
  authorize(request: CosmosSignableRequest): Promise<{ 'x-ms-date': string; authorization: string }>
}

/**
 * Cosmos DB string-to-sign: verb, resource type and date lower-cased, the link as is, then two newlines.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a bad method, or a field that is not a string or holds a
 * line break or control character (the message names the field).
 */
export function cosmosStringToSign(request: CosmosSignableRequest, date: string): string {
  const fields = [request?.resourceType, request?.resourceLink, date]
  for (const [index, field] of ['resourceType', 'resourceLink', 'date'].entries()) {
    if (typeof fields[index] !== 'string' || CONTROL.test(fields[index])) throw controlError(`${field} is not a string or`)
  }
  return `${verb(request.method).toLowerCase()}\n${request.resourceType.toLowerCase()}\n${request.resourceLink}\n${date.toLowerCase()}\n\n`
}

/** Builds a Cosmos DB signer over an HMAC implementation. */
export function buildCosmosMasterKeySigner(options: { masterKey: string }, createHmac: (key: string) => HmacSigner): CosmosMasterKeySigner {
  if (typeof options?.masterKey !== 'string')
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'masterKey is missing: pass the primary or secondary key from Keys')
  const hmac = createHmac(options.masterKey)
  return {
    async authorize(request) {
      const date = request?.date ?? new Date().toUTCString()
      const signature = await hmac(cosmosStringToSign(request, date))
      return { 'x-ms-date': date, authorization: encodeURIComponent(`type=master&ver=1.0&sig=${signature}`) }
    },
  }
}
