import { AzcredError } from '@azcred/core'
import { type CertificateFacts, type KeyFamily, pkcs1ToPkcs8, readCertificate, readPrivateKey } from './certificate-der'

/** A certificate with its private key, checked and ready to sign. */
export interface LoadedCertificate {
  /** DER of each certificate, leaf first. */
  chain: Uint8Array[]
  /** PKCS#8 DER of the private key. */
  privateKey: Uint8Array
  family: KeyFamily
  leaf: CertificateFacts
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g

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
 * Reads a PEM bundle (private key and certificate chain, in any order), and checks it: one
 * unencrypted RSA or P-256 key, at least one certificate, the leaf valid now, and the key matching
 * the leaf. Messages never contain key material.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the problem.
 */
export function loadCertificatePem(pem: string, now = Date.now()): LoadedCertificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) throw invalid('no PEM found: pass the PEM text holding the private key and the certificate')
  const chain: Uint8Array[] = []
  let privateKey: Uint8Array | undefined
  for (const [, label, body = ''] of pem.matchAll(BLOCK)) {
    try {
      if (label === 'CERTIFICATE') chain.push(decode(body))
      else if (label === 'PRIVATE KEY') privateKey = decode(body)
      else if (label === 'RSA PRIVATE KEY' && !body.includes('ENCRYPTED')) privateKey = pkcs1ToPkcs8(decode(body))
      else if (label === 'ENCRYPTED PRIVATE KEY' || label === 'RSA PRIVATE KEY') {
        throw invalid('the private key is encrypted: import ClientCertificateCredential from "@azcred/client-certificate/node" and pass certificatePassword')
      } else if (label === 'EC PRIVATE KEY') throw invalid('the EC key is in SEC1 form: convert it to PKCS#8 ("openssl pkcs8 -topk8 -nocrypt")')
    } catch (error) {
      if (error instanceof AzcredError) throw error
      throw invalid(`the ${label} block is not valid base64`)
    }
  }
  if (privateKey === undefined) throw invalid('no private key in the PEM: include the "PRIVATE KEY" block next to the certificate')
  const [leafDer] = chain
  if (leafDer === undefined) throw invalid('no certificate in the PEM: include the "CERTIFICATE" block next to the private key')
  let leaf: CertificateFacts
  let key: ReturnType<typeof readPrivateKey>
  try {
    leaf = readCertificate(leafDer)
  } catch {
    throw invalid('the CERTIFICATE block is not a valid X.509 certificate')
  }
  try {
    key = readPrivateKey(privateKey)
  } catch {
    throw invalid('the private key block is not a valid PKCS#8 or PKCS#1 key')
  }
  if (key.family === 'other') throw invalid('only RSA and P-256 (ES256) keys are supported')
  if (key.family !== leaf.family || (key.publicKey !== undefined && key.publicKey !== leaf.publicKey)) {
    throw invalid('the private key does not belong to the first certificate in the PEM: put the matching certificate first')
  }
  if (leaf.notAfter <= now) throw invalid(`the certificate expired on ${new Date(leaf.notAfter).toISOString()}: upload a new one to the app registration`)
  if (leaf.notBefore > now) throw invalid(`the certificate is not valid before ${new Date(leaf.notBefore).toISOString()}`)
  return { chain, privateKey, family: key.family, leaf }
}
