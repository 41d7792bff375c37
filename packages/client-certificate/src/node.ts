import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { AzcredError } from '@azcred/core'
import {
  type ClientCertificateCredentialOptions,
  type ClientCertificatePemConfiguration,
  ClientCertificateCredential as PemClientCertificateCredential,
} from './client-certificate-credential'

export type { ClientCertificateCredentialOptions, ClientCertificatePemConfiguration }

/** A certificate file (PEM with the private key and certificate chain). */
export interface ClientCertificatePathConfiguration {
  certificatePath: string
  /** Password of an encrypted private key. */
  certificatePassword?: string
}

/** PEM text whose private key may be encrypted. */
export interface ClientCertificateEncryptedPemConfiguration extends ClientCertificatePemConfiguration {
  certificatePassword?: string
}

const KEY_BLOCK = /-----BEGIN (ENCRYPTED PRIVATE KEY|RSA PRIVATE KEY|EC PRIVATE KEY|PRIVATE KEY)-----[\s\S]*?-----END \1-----/

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', `certificatePath ${path} cannot be read (${(error as { code?: string }).code ?? 'unreadable'})`, {
      cause: error,
    })
  }
}

/** Rewrites the key block as unencrypted PKCS#8, decrypting with `password` where needed. */
function normalizeKey(pem: string, password: string | undefined): string {
  const block = pem.match(KEY_BLOCK)?.[0]
  if (block === undefined || (password === undefined && !block.includes('ENCRYPTED') && !block.startsWith('-----BEGIN EC'))) return pem
  let pkcs8: string
  try {
    pkcs8 = createPrivateKey({ key: block, format: 'pem', passphrase: password }).export({ type: 'pkcs8', format: 'pem' }).toString()
  } catch {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      password === undefined ? 'certificate: the private key is encrypted: pass certificatePassword' : 'certificatePassword does not decrypt the private key',
    )
  }
  return pem.replace(block, pkcs8.trim())
}

/**
 * `ClientCertificateCredential` for Node: everything the runtime-agnostic one does, plus a PEM
 * file path (as `@azure/identity` takes it) and encrypted private keys (`certificatePassword`).
 * @throws AzcredError AZCRED_CONFIG_INVALID for an unreadable file, a wrong password, and every
 * check of the PEM itself.
 * @example const credential = new ClientCertificateCredential(tenantId, clientId, '/etc/app/cert.pem')
 */
export class ClientCertificateCredential extends PemClientCertificateCredential {
  constructor(
    tenantId: string,
    clientId: string,
    certificate: string | ClientCertificatePathConfiguration | ClientCertificateEncryptedPemConfiguration,
    options: ClientCertificateCredentialOptions = {},
  ) {
    const configuration = typeof certificate === 'string' ? { certificatePath: certificate } : certificate
    const pem = 'certificatePath' in configuration ? readPem(configuration.certificatePath) : configuration.certificate
    super(tenantId, clientId, { certificate: normalizeKey(pem, configuration.certificatePassword) }, options)
  }
}
