import { clientCertificateAuthentication } from '@azcred/client-certificate/node'
import { assertConfig } from '@azcred/core'
import {
  type OnBehalfOfCredentialBaseOptions,
  type OnBehalfOfCredentialOptions,
  OnBehalfOfCredential as RuntimeAgnosticOnBehalfOfCredential,
} from './on-behalf-of-credential'

export type { ClaimsChallengeOptions } from './claims-challenge'
export { claimsChallengeHeader } from './claims-challenge'
export type {
  OnBehalfOfCredentialAssertionOptions,
  OnBehalfOfCredentialBaseOptions,
  OnBehalfOfCredentialCertificateOptions,
  OnBehalfOfCredentialClientAuthenticationOptions,
  OnBehalfOfCredentialSecretOptions,
} from './on-behalf-of-credential'
export type { OnBehalfOfUserCacheOptions } from './on-behalf-of-user-cache'
export { OnBehalfOfUserCache } from './on-behalf-of-user-cache'

/**
 * The API authenticates with a certificate file (PEM with the private key and certificate), as
 * `@azure/identity`'s `certificatePath`.
 * @public
 */
export interface OnBehalfOfCredentialCertificatePathOptions extends OnBehalfOfCredentialBaseOptions {
  /** Path of the PEM file, read once when the credential is built. */
  certificatePath: string
  /** Password of an encrypted private key. */
  certificatePassword?: string | undefined
  /** Send the certificate chain (`x5c`) for subject-name/issuer authentication. Default false. */
  sendCertificateChain?: boolean | undefined
  clientSecret?: never
  certificate?: never
  getAssertion?: never
  clientAuthentication?: never
}

/**
 * Options of the Node {@link OnBehalfOfCredential}: those of the runtime-agnostic one, or a certificate file.
 * @public
 */
export type OnBehalfOfCredentialNodeOptions = OnBehalfOfCredentialOptions | OnBehalfOfCredentialCertificatePathOptions

/**
 * `OnBehalfOfCredential` for Node: everything the runtime-agnostic one does, plus a certificate file
 * (`certificatePath`, as `@azure/identity` takes it) and encrypted keys (`certificatePassword`). The
 * file is read when the credential is built: with one credential per request, build the client
 * authentication once instead (`clientCertificateAuthentication` from `@azcred/client-certificate/node`,
 * passed as `clientAuthentication`).
 * @throws AzcredError as the runtime-agnostic one, and AZCRED_CONFIG_INVALID for an unreadable path
 * (its system code, never the value) or a wrong password.
 * @example
 * const credential = new OnBehalfOfCredential({ tenantId, clientId, certificatePath: '/etc/api/cert.pem', userAssertionToken })
 * @public
 */
export class OnBehalfOfCredential extends RuntimeAgnosticOnBehalfOfCredential {
  constructor(options: OnBehalfOfCredentialNodeOptions) {
    if (typeof options === 'object' && options !== null && 'certificatePath' in options && options.certificatePath !== undefined) {
      const { certificatePath, certificatePassword, sendCertificateChain, ...rest } = options as OnBehalfOfCredentialCertificatePathOptions
      const others = (['clientSecret', 'certificate', 'getAssertion', 'clientAuthentication'] as const).filter(
        (name) => (rest as Record<string, unknown>)[name] !== undefined,
      )
      assertConfig(
        others.length === 0,
        `pass exactly one of clientSecret, certificate, certificatePath, getAssertion or clientAuthentication (certificatePath and ${others.join(' and ')} were given)`,
      )
      super({ ...rest, clientAuthentication: clientCertificateAuthentication({ certificatePath, certificatePassword }, { sendCertificateChain }) })
    } else {
      super(options as OnBehalfOfCredentialOptions)
    }
  }
}
