import { AzcredError } from '@azcred/core'
import type { HmacSigner } from './hmac-webcrypto'
import { type SignableRequest, StorageHeaders, storageStringToSignFrom } from './storage-string-to-sign'
import { tableHeaders, tableLiteStringToSignFrom, tableStringToSignFrom } from './table-string-to-sign'

/** Options of `createSharedKeySigner`. */
export interface SharedKeySignerOptions {
  /** The storage account name. */
  accountName: string
  /** The account key (base64), key1 or key2 from Access keys. Decoded and imported once. */
  accountKey: string
}

/** Which Shared Key scheme to sign with. */
export type SharedKeyScheme =
  /** Blob, Queue and File (the default). */
  | 'storage'
  /** Table service, `SharedKey`. */
  | 'table'
  /** Table service, `SharedKeyLite`. */
  | 'table-lite'

/** Signs Storage requests with Shared Key. Holds the key in a closure; never shows it. */
export interface SharedKeySigner {
  readonly accountName: string
  /**
   * The headers to add to `request`: `x-ms-date` (now) when it has neither `x-ms-date` nor `Date`,
   * and `Authorization: SharedKey {account}:{signature}` (`SharedKeyLite` for `table-lite`).
   * `x-ms-*` headers are ordered as the service orders them (not by code unit); header values are
   * signed without the spaces and tabs around them, as the service reads them.
   * @throws AzcredError (rejected promise) AZCRED_CONFIG_INVALID for an unknown scheme, a bad method or
   * URL, an `x-ms-*` name that is no header name, or a line break or control character in a signed
   * header value or decoded query part (the message names the header or parameter, never a value).
   */
  authorize(request: SignableRequest, scheme?: SharedKeyScheme): Promise<Record<string, string>>
  /** Base64 HMAC-SHA256 of any string under the account key (SAS generation uses it). */
  sign(stringToSign: string): Promise<string>
}

/** Builds a signer over an HMAC implementation (WebCrypto, or `node:crypto` on Node). */
export function buildSharedKeySigner(options: SharedKeySignerOptions, createHmac: (accountKey: string) => HmacSigner): SharedKeySigner {
  const accountName = options?.accountName
  if (typeof accountName !== 'string' || !/^[a-z0-9]{3,24}$/.test(accountName)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'accountName must be 3 to 24 lower-case letters and digits: pass the storage account name')
  }
  if (typeof options.accountKey !== 'string')
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'accountKey is missing: pass key1 or key2 from the account Access keys')
  const hmac = createHmac(options.accountKey)
  const sharedKeyPrefix = `SharedKey ${accountName}:`
  const litePrefix = `SharedKeyLite ${accountName}:`
  return {
    accountName,
    authorize(request, scheme = 'storage') {
      const added: Record<string, string> = {}
      let stringToSign: string
      try {
        if (typeof request !== 'object' || request === null)
          throw new AzcredError('AZCRED_CONFIG_INVALID', 'authorize needs a request: { method, url, headers }')
        if (scheme === 'storage') {
          const headers = new StorageHeaders(request.headers)
          if (!headers.hasDate) {
            added['x-ms-date'] = new Date().toUTCString()
            headers.add('x-ms-date', added['x-ms-date'])
          }
          stringToSign = storageStringToSignFrom(request.method, request.url, headers, accountName)
        } else if (scheme === 'table' || scheme === 'table-lite') {
          const headers = tableHeaders(request.headers)
          if (headers.date === '') {
            added['x-ms-date'] = new Date().toUTCString()
            headers.date = added['x-ms-date']
          }
          stringToSign =
            scheme === 'table'
              ? tableStringToSignFrom(request.method, request.url, headers, accountName)
              : tableLiteStringToSignFrom(request.url, headers, accountName)
        } else {
          throw new AzcredError('AZCRED_CONFIG_INVALID', `unknown Shared Key scheme ${JSON.stringify(scheme)}: use 'storage', 'table' or 'table-lite'`)
        }
      } catch (error) {
        return Promise.reject(error)
      }
      const prefix = scheme === 'table-lite' ? litePrefix : sharedKeyPrefix
      // node:crypto signs synchronously: skip the extra await the WebCrypto path needs.
      const signature = hmac(stringToSign)
      if (typeof signature === 'string') {
        added.authorization = prefix + signature
        return Promise.resolve(added)
      }
      return signature.then((value) => {
        added.authorization = prefix + value
        return added
      })
    },
    async sign(stringToSign) {
      return hmac(stringToSign)
    },
  }
}
