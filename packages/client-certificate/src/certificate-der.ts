// A minimal DER reader: just enough of X.509 and PKCS#8 to find a certificate's validity and public
// key, and a private key's algorithm and public part, synchronously (so bad input fails at construction).

interface Element {
  tag: number
  start: number
  contentStart: number
  end: number
}

function read(bytes: Uint8Array, offset: number): Element {
  const tag = bytes[offset]
  let length = bytes[offset + 1]
  if (tag === undefined || length === undefined) throw new Error('truncated DER')
  let contentStart = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count < 1 || count > 4) throw new Error('unsupported DER length')
    length = 0
    for (let index = 0; index < count; index += 1) length = length * 256 + (bytes[contentStart + index] ?? 0)
    contentStart += count
  }
  const end = contentStart + length
  if (end > bytes.length) throw new Error('truncated DER')
  return { tag, start: offset, contentStart, end }
}

function children(bytes: Uint8Array, parent: Element): Element[] {
  const list: Element[] = []
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = read(bytes, offset)
    list.push(child)
    offset = child.end
  }
  return list
}

function child(bytes: Uint8Array, parent: Element, index: number): Element {
  const found = children(bytes, parent)[index]
  if (found === undefined) throw new Error('unexpected DER structure')
  return found
}

const text = (bytes: Uint8Array, element: Element): string => String.fromCharCode(...bytes.subarray(element.contentStart, element.end))
const hex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')

function time(bytes: Uint8Array, element: Element): number {
  const value = text(bytes, element)
  const full = element.tag === 0x17 ? `${Number(value.slice(0, 2)) >= 50 ? '19' : '20'}${value}` : value
  return Date.UTC(
    Number(full.slice(0, 4)),
    Number(full.slice(4, 6)) - 1,
    Number(full.slice(6, 8)),
    Number(full.slice(8, 10)),
    Number(full.slice(10, 12)),
    Number(full.slice(12, 14)),
  )
}

/** The key family a DER algorithm identifier names. */
export type KeyFamily = 'RSA' | 'EC-P256' | 'other'

const RSA_OID = '2a864886f70d010101'
const EC_OID = '2a8648ce3d0201'
const P256_OID = '2a8648ce3d030107'

function family(bytes: Uint8Array, algorithm: Element): KeyFamily {
  const [oid, parameters] = children(bytes, algorithm)
  const name = oid === undefined ? '' : hex(bytes.subarray(oid.contentStart, oid.end))
  if (name === RSA_OID) return 'RSA'
  if (name === EC_OID && parameters !== undefined && hex(bytes.subarray(parameters.contentStart, parameters.end)) === P256_OID) return 'EC-P256'
  return 'other'
}

/** What azcred needs from a certificate. */
export interface CertificateFacts {
  notBefore: number
  notAfter: number
  family: KeyFamily
  /** Hex of the RSA modulus or the EC point, to compare with the private key. */
  publicKey: string
}

export function readCertificate(der: Uint8Array): CertificateFacts {
  const certificate = read(der, 0)
  const tbs = child(der, certificate, 0)
  const fields = children(der, tbs)
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0
  const validity = fields[offset + 3]
  const spki = fields[offset + 5]
  if (validity === undefined || spki === undefined) throw new Error('unexpected certificate structure')
  const [algorithm, bitString] = children(der, spki)
  if (algorithm === undefined || bitString === undefined) throw new Error('unexpected public key structure')
  const keyFamily = family(der, algorithm)
  const keyBytes = der.subarray(bitString.contentStart + 1, bitString.end) // skip the unused-bits byte
  const publicKey = keyFamily === 'RSA' ? hex(unsignedInteger(keyBytes, child(keyBytes, read(keyBytes, 0), 0))) : hex(keyBytes)
  return { notBefore: time(der, child(der, validity, 0)), notAfter: time(der, child(der, validity, 1)), family: keyFamily, publicKey }
}

function unsignedInteger(bytes: Uint8Array, element: Element): Uint8Array {
  let start = element.contentStart
  while (bytes[start] === 0 && start < element.end - 1) start += 1
  return bytes.subarray(start, element.end)
}

/** What azcred needs from a PKCS#8 private key: its family and public part (when present). */
export function readPrivateKey(der: Uint8Array): { family: KeyFamily; publicKey: string | undefined } {
  const info = read(der, 0)
  const [, algorithm, octets] = children(der, info)
  if (algorithm === undefined || octets === undefined) throw new Error('unexpected private key structure')
  const keyFamily = family(der, algorithm)
  const inner = der.subarray(octets.contentStart, octets.end)
  const key = read(inner, 0)
  if (keyFamily === 'RSA') return { family: keyFamily, publicKey: hex(unsignedInteger(inner, child(inner, key, 1))) }
  const publicPart = children(inner, key).find((element) => element.tag === 0xa1)
  if (publicPart === undefined) return { family: keyFamily, publicKey: undefined }
  const bitString = child(inner, publicPart, 0)
  return { family: keyFamily, publicKey: hex(inner.subarray(bitString.contentStart + 1, bitString.end)) }
}

function length(size: number): number[] {
  if (size < 0x80) return [size]
  const bytes: number[] = []
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return [0x80 | bytes.length, ...bytes]
}

/** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo, which WebCrypto imports. */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]
  const octets = [0x04, ...length(pkcs1.length)]
  const body = [0x02, 0x01, 0x00, ...algorithm, ...octets]
  return Uint8Array.from([0x30, ...length(body.length + pkcs1.length), ...body, ...pkcs1])
}
