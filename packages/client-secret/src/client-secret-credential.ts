import {
  type AccessToken,
  assertNonEmpty,
  assertTenantId,
  type EntraCredentialOptions,
  type GetTokenOptions,
  requestClientCredentialsToken,
  resolveAuthorityHost,
  type TokenCredential,
  TokenLifecycle,
} from '@azcred/core'

/**
 * Options of {@link ClientSecretCredential}: `authorityHost` or `cloud`, `additionallyAllowedTenants`,
 * `fetch`, `timeoutMs`, `allowInsecureConnection`, and the lifecycle's `onEvent`, `retry`, `refresh`.
 */
export interface ClientSecretCredentialOptions extends EntraCredentialOptions {}

// What to do about the refusals only a secret meets.
const SECRET_HINTS: Record<number, string> = {
  7000215: 'the client secret is wrong: use the secret Value (not its ID), or create a new one if it was rotated',
  7000222: 'the client secret has expired: create a new one in the app registration',
}

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
    assertNonEmpty(clientSecret, 'clientSecret', 'pass the secret Value from the app registration (Certificates & secrets)')
    const authorityHost = resolveAuthorityHost(options)
    this.#lifecycle = new TokenLifecycle({
      ...options,
      credentialName: 'ClientSecretCredential',
      appOnly: true, // common, organizations and consumers cannot issue app-only tokens
      tenantId,
      // The secret lives only in this closure.
      fetchToken: (request) =>
        requestClientCredentialsToken({
          authorityHost,
          clientId,
          request,
          clientAuthentication: { client_secret: clientSecret },
          fetch: options.fetch,
          timeoutMs: options.timeoutMs,
          hints: SECRET_HINTS,
        }),
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
