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

const RSA_OID = '2a864886f70d010101'

// Entra ID accepts only RSA certificate credentials, so RSA is the one family told apart.
const isRsa = (bytes: Uint8Array, algorithm: Element): boolean => {
  const oid = children(bytes, algorithm)[0]
  return oid !== undefined && hex(bytes.subarray(oid.contentStart, oid.end)) === RSA_OID
}

/** What azcred needs from a certificate. */
export interface CertificateFacts {
  notBefore: number
  notAfter: number
  /** Hex of the RSA modulus, to compare with the private key; undefined for other key types. */
  publicKey: string | undefined
  /** Hex of the DER issuer and subject names, to put a chain in order. */
  issuer: string
  subject: string
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
  const keyBytes = der.subarray(bitString.contentStart + 1, bitString.end) // skip the unused-bits byte
  const name = (index: number) => {
    const field = fields[offset + index]
    return field === undefined ? '' : hex(der.subarray(field.start, field.end))
  }
  return {
    notBefore: time(der, child(der, validity, 0)),
    notAfter: time(der, child(der, validity, 1)),
    publicKey: isRsa(der, algorithm) ? hex(unsignedInteger(keyBytes, child(keyBytes, read(keyBytes, 0), 0))) : undefined,
    issuer: name(2),
    subject: name(4),
  }
}

function unsignedInteger(bytes: Uint8Array, element: Element): Uint8Array {
  let start = element.contentStart
  while (bytes[start] === 0 && start < element.end - 1) start += 1
  return bytes.subarray(start, element.end)
}

/**
 * The hex RSA modulus of a PKCS#8 private key, or undefined when the key is not RSA.
 * @throws Error when the key is not a complete two-prime RSAPrivateKey (RFC 8017 A.1.2): version 0
 * and eight non-empty integers (n, e, d, p, q, dP, dQ, qInv). WebCrypto cannot import a key missing
 * any of them, so it is refused here, synchronously, rather than by every getToken.
 */
export function readPrivateKey(der: Uint8Array): string | undefined {
  const [, algorithm, octets] = children(der, read(der, 0))
  if (algorithm === undefined || octets === undefined) throw new Error('unexpected private key structure')
  if (!isRsa(der, algorithm)) return undefined
  const inner = der.subarray(octets.contentStart, octets.end)
  const integers = children(inner, read(inner, 0))
  if (
    integers.length !== 9 ||
    integers.some((integer) => integer.tag !== 2 || integer.end === integer.contentStart) ||
    inner[integers[0]?.contentStart as number] !== 0
  ) {
    throw new Error('incomplete RSA private key')
  }
  return hex(unsignedInteger(inner, integers[1] as Element))
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
