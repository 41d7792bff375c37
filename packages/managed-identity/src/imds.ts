import type { AccessToken, GetTokenOptions, TokenCredential, TokenLifecycle } from '@azcred/core'
import { createImdsHostFromOptions } from './managed-identity-imds'
import { createManagedIdentityLifecycle, getManagedIdentityToken } from './managed-identity-lifecycle'
import { type ManagedIdentityCredentialOptions, readConstructorArguments } from './managed-identity-options'

export { DEFAULT_IMDS_ENDPOINT, ENV_IMDS_ENDPOINT, ENV_POD_IDENTITY_AUTHORITY_HOST, PROBE_NEGATIVE_TTL_MS } from './managed-identity-imds'
export type { ManagedIdentityCredentialOptions, ManagedIdentityRetryOptions } from './managed-identity-options'

/**
 * Managed identity through IMDS only (VMs, scale sets, AKS nodes), for bundles that count kilobytes:
 * the same class and options as the main entry without the other hosts, and runtime-agnostic.
 * Retries 404, 410, 429, 5xx and network errors (a caller gives up within 15 s by default; while the
 * endpoint answers 410, after up to 75 s); a 400 (identity not found), a
 * redirect and other errors marked `retryable: false` are final. Uses `options.fetch` (or the global
 * `fetch`) as it is: behind an HTTP proxy, use the main entry, which always connects to IMDS directly.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for more than one id, an option of the
 * wrong type or out of range, or an `endpoint` that is not an http(s) URL or carries `user:password@`.
 * @throws AzcredError from `getToken`: AZCRED_SOURCE_UNAVAILABLE (probe found no IMDS), AZCRED_TOKEN_REQUEST_FAILED,
 * AZCRED_RESPONSE_INVALID, AZCRED_NETWORK_ERROR, AZCRED_TIMEOUT, AZCRED_ABORTED.
 * @example
 * const credential = new ManagedIdentityCredential({ probe: true })
 * const { token } = await credential.getToken('https://storage.azure.com/.default')
 */
export class ManagedIdentityCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle

  constructor(clientId: string, options?: ManagedIdentityCredentialOptions)
  constructor(options?: ManagedIdentityCredentialOptions)
  constructor(first?: string | ManagedIdentityCredentialOptions, second?: ManagedIdentityCredentialOptions) {
    const { options, identity } = readConstructorArguments(first, second)
    this.#lifecycle = createManagedIdentityLifecycle(createImdsHostFromOptions(options), identity, options)
  }

  /**
   * A token for one resource's scope, from the cache while valid.
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return getManagedIdentityToken(this.#lifecycle, scopes, options)
  }
}
