import { AzcredError } from '@azcred/core'

/** Signs strings with HMAC-SHA256 under one key; returns base64. */
export type HmacSigner = (stringToSign: string) => Promise<string> | string

/** Decodes a base64 account key, or says what is wrong with it (never showing it). */
export function decodeAccountKey(accountKey: string): Uint8Array<ArrayBuffer> {
  const clean = accountKey.trim()
  if (clean === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(clean) || clean.length % 4 !== 0) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'the key is not base64: copy key1 or key2 (Storage Access keys, Cosmos DB Keys) whole')
  }
  return Uint8Array.from(atob(clean), (character) => character.charCodeAt(0))
}

function toBase64(buffer: ArrayBuffer): string {
  let binary = ''
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** HMAC-SHA256 through WebCrypto (every runtime); the key is imported once, on first use. */
export function createWebCryptoHmac(accountKey: string): HmacSigner {
  const keyBytes = decodeAccountKey(accountKey)
  let key: Promise<CryptoKey> | undefined
  const encoder = new TextEncoder()
  return async (stringToSign) => {
    key ??= crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    return toBase64(await crypto.subtle.sign('HMAC', await key, encoder.encode(stringToSign)))
  }
}
