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
import { clientSecretAuthentication } from './client-secret-authentication'

/**
 * Options of {@link ClientSecretCredential}: `authorityHost` or `cloud`, `additionallyAllowedTenants`,
 * `fetch`, `timeoutMs`, `allowInsecureConnection`, and the lifecycle's `onEvent`, `retry`, `refresh`,
 * `tokenCache` (partitioned by authority host and client id: credentials of one app share its tokens).
 */
export interface ClientSecretCredentialOptions extends EntraCredentialOptions {}

/**
 * App-only tokens from a client secret (OAuth 2.0 client credentials grant, Entra ID v2.0).
 * Same name and constructor as `@azure/identity`'s, so migrating is changing an import.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed tenant id, an empty
 * client id or secret, or an authority host that is not https.
 * @throws AzcredError from `getToken`: AZCRED_TOKEN_REQUEST_FAILED (with Entra's AADSTS code),
 * AZCRED_NETWORK_ERROR, AZCRED_TIMEOUT, AZCRED_ABORTED, AZCRED_RESPONSE_INVALID.
 * @example
 * const credential = new ClientSecretCredential(tenantId, clientId, clientSecret)
 * const { token } = await credential.getToken('https://management.azure.com/.default')
 */
export class ClientSecretCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle

  constructor(tenantId: string, clientId: string, clientSecret: string, options: ClientSecretCredentialOptions = {}) {
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    // The secret lives only in this value's closure.
    const clientAuthentication = clientSecretAuthentication(clientSecret)
    const authorityHost = resolveAuthorityHost(options)
    const { fetch, timeoutMs, additionallyAllowedTenants } = options
    this.#lifecycle = new TokenLifecycle({
      ...lifecycleOptions(options),
      additionallyAllowedTenants,
      credentialName: 'ClientSecretCredential',
      appOnly: true, // common, organizations and consumers cannot issue app-only tokens
      tenantId,
      cachePartition: () => ({ authority: authorityHost, clientId, account: '' }),
      fetchToken: (request) => requestClientCredentialsToken({ authorityHost, clientId, request, clientAuthentication, fetch, timeoutMs }),
    })
  }

  /**
   * A token for the scopes: from the cache while valid (refreshed in the background before it
   * expires), otherwise requested, with one request shared by concurrent callers.
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.#lifecycle.getToken(scopes, options)
  }
}
