import {
  type AccessToken,
  assertNonEmpty,
  assertTenantId,
  type EntraCredentialOptions,
  type GetTokenOptions,
  lifecycleOptions,
  requestClientCredentialsToken,
  resolveAuthorityHost,
  type TokenCredential,
  TokenLifecycle,
} from '@azcred/core'
import {
  type ClientCertificateAuthenticationOptions,
  type ClientCertificatePemConfiguration,
  clientCertificateAuthentication,
} from './client-certificate-authentication'

export type { ClientCertificatePemConfiguration }

/** Options of {@link ClientCertificateCredential}: {@link ClientCertificateAuthenticationOptions} and every Entra credential's. */
export interface ClientCertificateCredentialOptions extends EntraCredentialOptions, ClientCertificateAuthenticationOptions {}

/**
 * App-only tokens from a certificate: a client assertion JWT signed with the RSA private key (PS256
 * by default, RS256 on request) carrying `x5t#S256` and legacy `x5t` of the certificate that holds
 * the key's public half (wherever it sits in the PEM), and `x5c` with `sendCertificateChain`. An
 * assertion is reused until less than half its lifetime is left. Same name and constructor as
 * `@azure/identity`'s; certificate files and encrypted keys need the `@azcred/client-certificate/node` entry.
 * Built on {@link clientCertificateAuthentication}; a `tokenCache` is partitioned by authority host and client id.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed PEM, a missing,
 * encrypted, damaged or incomplete key, a key that is not RSA (Entra ID accepts only RSA certificate
 * credentials) or has fewer than 2048 bits, a key no certificate in the PEM matches, an expired
 * certificate, or an invalid `algorithm` or `assertionLifetimeSeconds`; from `getToken`, when the
 * runtime's WebCrypto cannot import the key or sign with it (tried again on the next call).
 * @example const credential = new ClientCertificateCredential(tenantId, clientId, { certificate: pemText })
 */
export class ClientCertificateCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle

  constructor(tenantId: string, clientId: string, certificate: ClientCertificatePemConfiguration | string, options: ClientCertificateCredentialOptions = {}) {
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    // The key lives only in this value's closure.
    const clientAuthentication = clientCertificateAuthentication(certificate, options)
    const authorityHost = resolveAuthorityHost(options)
    const { fetch, timeoutMs, additionallyAllowedTenants } = options
    this.#lifecycle = new TokenLifecycle({
      ...lifecycleOptions(options),
      additionallyAllowedTenants,
      credentialName: 'ClientCertificateCredential',
      appOnly: true, // common, organizations and consumers cannot issue app-only tokens
      tenantId,
      cachePartition: () => ({ authority: authorityHost, clientId, account: '' }),
      fetchToken: (request) => requestClientCredentialsToken({ authorityHost, clientId, request, clientAuthentication, fetch, timeoutMs }),
    })
  }

  /**
   * A token for the scopes, from core's lifecycle engine.
   * @throws AzcredError AZCRED_CONFIG_INVALID when the key cannot be imported or sign,
   * AZCRED_TOKEN_REQUEST_FAILED and the transport codes.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.#lifecycle.getToken(scopes, options)
  }
}
