import { AzcredError } from '@azcred/core'
import { type CertificateFacts, pkcs1ToPkcs8, readCertificate, readPrivateKey } from './certificate-der'

/** A certificate with its private key, checked and ready to sign. */
export interface LoadedCertificate {
  /** DER of each certificate: the one holding the key's public half first, then its issuers. */
  chain: Uint8Array[]
  /** PKCS#8 DER of the private key. */
  privateKey: Uint8Array
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g
/** A key this runtime cannot use: truncated, or missing some of the nine RSA integers. */
export const DAMAGED = 'the private key is damaged or incomplete: export it again'
const NOT_RSA = 'Entra ID accepts only RSA certificate credentials and this key is not RSA: create an RSA certificate (2048 bits or more)'

function invalid(problem: string): AzcredError {
  return new AzcredError('AZCRED_CONFIG_INVALID', `certificate: ${problem}`)
}

function decode(body: string): Uint8Array {
  const base64 = body
    .split('\n')
    .filter((line) => !line.includes(':'))
    .join('')
    .replace(/\s+/g, '')
  return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0))
}

/**
 * Reads a PEM bundle (private key and certificates, in any order, as PFX and Key Vault exports put
 * them) and checks it: one unencrypted RSA key, the certificate holding its public half (the leaf),
 * valid now. The key must be a complete RSA key of 2048 bits or more. The chain is returned leaf first, each certificate followed by its issuer, then any
 * others. Messages never contain key material.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the problem.
 */
export function loadCertificatePem(pem: unknown, now = Date.now()): LoadedCertificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw invalid('no PEM found: pass the PEM text holding the private key and the certificate')
  const certificates: (CertificateFacts & { der: Uint8Array })[] = []
  let privateKey: Uint8Array | undefined
  for (const [, label, body = ''] of pem.matchAll(BLOCK)) {
    try {
      if (label === 'CERTIFICATE') {
        const der = decode(body)
        let facts: CertificateFacts
        try {
          facts = readCertificate(der)
        } catch {
          throw invalid('a CERTIFICATE block is not a valid X.509 certificate')
        }
        certificates.push({ ...facts, der })
      } else if (label === 'PRIVATE KEY') privateKey = decode(body)
      else if (label === 'RSA PRIVATE KEY' && !body.includes('ENCRYPTED')) privateKey = pkcs1ToPkcs8(decode(body))
      else if (label === 'ENCRYPTED PRIVATE KEY' || label === 'RSA PRIVATE KEY') {
        throw invalid('the private key is encrypted: import ClientCertificateCredential from "@azcred/client-certificate/node" and pass certificatePassword')
      } else if (label === 'EC PRIVATE KEY') throw invalid(NOT_RSA)
    } catch (error) {
      if (error instanceof AzcredError) throw error
      throw invalid(`the ${label} block is not valid base64`)
    }
  }
  if (privateKey === undefined) throw invalid('no private key in the PEM: include the "PRIVATE KEY" block next to the certificate')
  if (certificates.length === 0) throw invalid('no certificate in the PEM: include the "CERTIFICATE" block next to the private key')
  let modulus: string | undefined
  try {
    modulus = readPrivateKey(privateKey)
  } catch {
    throw invalid(DAMAGED)
  }
  if (modulus === undefined) throw invalid(NOT_RSA)
  // jose signs RS256/PS256 only with 2048 bits or more (as Entra ID requires): refuse now, not at every getToken.
  if (modulus.length < 512) throw invalid('the RSA key has fewer than 2048 bits, which Entra ID needs: create a new certificate')
  const leaf = certificates.find((certificate) => certificate.publicKey === modulus)
  if (leaf === undefined) throw invalid('the private key belongs to none of the certificates in the PEM: include the certificate issued for this key')
  if (leaf.notAfter <= now) throw invalid(`the certificate expired on ${new Date(leaf.notAfter).toISOString()}: upload a new one to the app registration`)
  if (leaf.notBefore > now) throw invalid(`the certificate is not valid before ${new Date(leaf.notBefore).toISOString()}`)
  // x5c order (RFC 7515): the leaf, then the certificate that issued each one, then the rest.
  const others = certificates.filter((certificate) => certificate !== leaf)
  const chain = [leaf]
  for (let index = 0; index >= 0; ) {
    const last = chain[chain.length - 1] as CertificateFacts
    index = others.findIndex((certificate) => certificate.subject === last.issuer)
    if (index >= 0) chain.push(...others.splice(index, 1))
  }
  return { chain: [...chain, ...others].map((certificate) => certificate.der), privateKey }
}
