import { createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { AzcredError, assertNonEmpty, type ClientAuthentication, systemErrorCode } from '@azcred/core'
import { DAMAGED } from './certificate-pem'
import {
  type ClientCertificateAuthenticationOptions,
  type ClientCertificatePemConfiguration,
  clientCertificateAuthentication as pemClientCertificateAuthentication,
} from './client-certificate-authentication'
import { type ClientCertificateCredentialOptions, ClientCertificateCredential as PemClientCertificateCredential } from './client-certificate-credential'

export type { ClientCertificateAuthenticationOptions, ClientCertificateCredentialOptions, ClientCertificatePemConfiguration }

/** A certificate file (PEM with the private key and certificate chain). */
export interface ClientCertificatePathConfiguration {
  /** Path of the PEM file; the official libraries read it from `AZURE_CLIENT_CERTIFICATE_PATH`. */
  certificatePath: string
  /** Password of an encrypted private key (`AZURE_CLIENT_CERTIFICATE_PASSWORD` in the official libraries). */
  certificatePassword?: string | undefined
}

/** PEM text whose private key may be encrypted. */
export interface ClientCertificateEncryptedPemConfiguration extends ClientCertificatePemConfiguration {
  certificatePassword?: string | undefined
}

const KEY_BLOCK = /-----BEGIN (ENCRYPTED PRIVATE KEY|RSA PRIVATE KEY|EC PRIVATE KEY|PRIVATE KEY)-----[\s\S]*?-----END \1-----/

// Why a file could not be read: its system code (ENOENT, EACCES, EISDIR, ...) and the fix. The value
// itself is never shown: no pattern tells a path from a secret passed there by mistake.
const unreadable = (error: unknown): string =>
  `certificatePath cannot be read (${systemErrorCode(error) ?? 'unreadable'}): pass the path of a PEM file this process may read (the value is not shown)`

function readPem(path: unknown): string {
  assertNonEmpty(path, 'certificatePath', 'pass the path of a PEM file holding the private key and the certificate')
  if (path.includes('-----BEGIN')) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'certificatePath looks like PEM content, not a path: pass it as `certificate` instead')
  }
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    // Only the system code: Node's own message repeats the path.
    throw new AzcredError('AZCRED_CONFIG_INVALID', unreadable(error))
  }
}

/** Rewrites the key block as unencrypted PKCS#8, decrypting with `password` where needed. */
function normalizeKey(pem: unknown, password: string | undefined): unknown {
  const block = typeof pem === 'string' ? pem.match(KEY_BLOCK)?.[0] : undefined
  if (block === undefined || (password === undefined && !block.includes('ENCRYPTED') && !block.startsWith('-----BEGIN EC'))) return pem
  let pkcs8: string
  try {
    pkcs8 = createPrivateKey({ key: block, format: 'pem', passphrase: password }).export({ type: 'pkcs8', format: 'pem' }).toString()
  } catch {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      !block.includes('ENCRYPTED')
        ? `certificate: ${DAMAGED}`
        : password === undefined
          ? 'certificate: the private key is encrypted: pass certificatePassword'
          : 'certificatePassword does not decrypt the private key',
    )
  }
  return (pem as string).replace(block, pkcs8.trim())
}

/** The PEM configuration of a Node certificate argument: a path read, PEM text as is, an encrypted key decrypted. */
function readCertificate(
  certificate: string | ClientCertificatePathConfiguration | ClientCertificateEncryptedPemConfiguration,
): ClientCertificatePemConfiguration {
  const configuration: Partial<ClientCertificatePathConfiguration & ClientCertificatePemConfiguration> =
    typeof certificate !== 'string' ? { ...certificate } : certificate.includes('-----BEGIN') ? { certificate } : { certificatePath: certificate }
  const pem = 'certificatePath' in configuration ? readPem(configuration.certificatePath) : configuration.certificate
  return { certificate: normalizeKey(pem, configuration.certificatePassword) as string }
}

/**
 * `clientCertificateAuthentication` for Node: everything the runtime-agnostic one does, plus a PEM
 * file path and encrypted private keys (`certificatePassword`), read once, here. A string argument is
 * a path, unless it is PEM text itself.
 * @throws AzcredError AZCRED_CONFIG_INVALID for an empty or unreadable path, PEM text passed as
 * `certificatePath`, a wrong password, and every check of the PEM itself.
 * @example const clientAuthentication = clientCertificateAuthentication('/etc/app/cert.pem')
 */
export function clientCertificateAuthentication(
  certificate: string | ClientCertificatePathConfiguration | ClientCertificateEncryptedPemConfiguration,
  options: ClientCertificateAuthenticationOptions = {},
): ClientAuthentication {
  return pemClientCertificateAuthentication(readCertificate(certificate), options)
}

/**
 * `ClientCertificateCredential` for Node: everything the runtime-agnostic one does, plus a PEM
 * file path (as `@azure/identity` takes it) and encrypted private keys (`certificatePassword`). A
 * string argument is a path, unless it is PEM text itself.
 * @throws AzcredError AZCRED_CONFIG_INVALID for an empty or unreadable path, PEM text passed as
 * `certificatePath`, a wrong password, and every check of the PEM itself.
 * @example const credential = new ClientCertificateCredential(tenantId, clientId, '/etc/app/cert.pem')
 */
export class ClientCertificateCredential extends PemClientCertificateCredential {
  constructor(
    tenantId: string,
    clientId: string,
    certificate: string | ClientCertificatePathConfiguration | ClientCertificateEncryptedPemConfiguration,
    options: ClientCertificateCredentialOptions = {},
  ) {
    super(tenantId, clientId, readCertificate(certificate), options)
  }
}
