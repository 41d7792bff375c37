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
import { type AssertionSource, clientAssertionAuthentication } from './client-assertion-authentication'

/** Options of {@link ClientAssertionCredential}. */
export interface ClientAssertionCredentialOptions extends EntraCredentialOptions {
  /**
   * Audience asked of a `FederatedTokenProvider`. Default: `cloud.tokenExchangeAudience`, else
   * `api://AzureADTokenExchange`.
   */
  audience?: string
}

/**
 * App-only tokens from a client assertion (OAuth 2.0 client credentials with `client_assertion`):
 * a federated token from another identity provider, or a JWT you sign. Same name and constructor as
 * `@azure/identity`'s; also accepts any `FederatedTokenProvider`. An assertion Entra refuses as
 * expired (AADSTS700024) is fetched again (with `forceRefresh`) and the request retried once. Built on
 * {@link clientAssertionAuthentication}. A `tokenCache` is partitioned by authority host and client id.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed tenant id, an empty
 * client id, or a source that is neither a function nor a provider.
 * @throws AzcredError from `getToken`: AZCRED_TOKEN_REQUEST_FAILED (a subject mismatch names the
 * presented issuer, subject and audience), the source's own errors, and the transport codes.
 * @example
 * const credential = new ClientAssertionCredential(tenantId, clientId, async () => readMyOidcToken())
 */
export class ClientAssertionCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle

  constructor(tenantId: string, clientId: string, source: AssertionSource, options: ClientAssertionCredentialOptions = {}) {
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    const clientAuthentication = clientAssertionAuthentication(source, options)
    const authorityHost = resolveAuthorityHost(options)
    const { fetch, timeoutMs, additionallyAllowedTenants } = options
    this.#lifecycle = new TokenLifecycle({
      ...lifecycleOptions(options),
      additionallyAllowedTenants,
      credentialName: 'ClientAssertionCredential',
      appOnly: true, // common, organizations and consumers cannot issue app-only tokens
      tenantId,
      cachePartition: () => ({ authority: authorityHost, clientId, account: '' }),
      fetchToken: (request) => requestClientCredentialsToken({ authorityHost, clientId, request, clientAuthentication, fetch, timeoutMs }),
    })
  }

  /**
   * A token for the scopes, from the shared lifecycle engine (cache, single-flight, refresh, retry).
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.#lifecycle.getToken(scopes, options)
  }
}
