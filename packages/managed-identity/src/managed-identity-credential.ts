import { type AccessToken, AzcredError, type GetTokenOptions, lifecycleOptions, proxyFromEnv, type TokenCredential } from '@azcred/core'
import { WorkloadIdentityCredential } from '@azcred/workload-identity'
import { createArcHostFromEnv } from './managed-identity-arc'
import { bindManagedIdentity, getBoundToken, type ManagedIdentityBinding, type ManagedIdentityRuntime } from './managed-identity-binding'
import { directFetch } from './managed-identity-direct-fetch'
import type { ManagedIdentityCredentialOptions } from './managed-identity-options'
import type { ManagedIdentityHostFactory } from './managed-identity-request'
import { createServiceFabricHostFromEnv } from './managed-identity-service-fabric'
import { type ManagedIdentitySource, NODE_DETECTION } from './managed-identity-source'

/** AKS workload identity's factory for the host table: a `WorkloadIdentityCredential` with the same lifecycle options. */
const createWorkloadIdentity: ManagedIdentityHostFactory = (options, identity) => {
  const clientId = identity?.kind === 'clientId' ? identity.value : undefined
  if (identity !== undefined && clientId === undefined) {
    const refusal = new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `AKS workload identity selects an identity by client id, but options.${identity.kind} was given: pass clientId`,
    )
    return { getToken: () => Promise.reject(refusal) }
  }
  return new WorkloadIdentityCredential({ ...lifecycleOptions(options), clientId, fetch: options.fetch })
}

/**
 * The Node build: every host, and a direct transport. Managed identity endpoints live on this machine
 * or link-local: no proxy can reach them. The direct transport is the default, and replaces
 * options.fetch while proxy variables are set (read per request: they may be set after construction,
 * by a .env loader for instance).
 */
const NODE_RUNTIME: ManagedIdentityRuntime = {
  ...NODE_DETECTION,
  factories: { 'workload-identity': createWorkloadIdentity, 'service-fabric': createServiceFabricHostFromEnv, 'azure-arc': createArcHostFromEnv },
  transport(fetch) {
    const direct = directFetch()
    return fetch === undefined ? direct : (input, init) => (proxyFromEnv() ? direct : fetch)(input, init)
  },
}

/**
 * Tokens for the managed identity of the Azure resource this code runs on. Detects the host once, at
 * construction, from its environment variables ({@link detectManagedIdentitySource}): AKS workload
 * identity, Service Fabric, App Service / Functions / Container Apps, Azure Machine Learning, Cloud
 * Shell, Azure Arc or IMDS. Retries 404, 410, 429, 5xx, network errors and timeouts with backoff; a
 * caller gives up within 15 s by default, except while the endpoint answers 410 (IMDS upgrading):
 * then for up to 75 s (see `ManagedIdentityRetryOptions`). A 400 (identity not found) is final.
 * `retryOptions` (`@azure/identity`'s spelling) is mapped onto `retry`. `timeoutMs` ends every stage
 * of a request (connecting, TLS handshake, headers, body). Same name and constructor shapes as
 * `@azure/identity`'s. `getToken` never throws synchronously.
 *
 * Managed identity endpoints are never called through a proxy: they are called over a direct
 * node:http(s) connection (whatever global dispatcher is set), and `options.fetch` is used only while
 * no `HTTPS_PROXY` / `HTTP_PROXY` is set. No request follows a redirect (a 3xx is a final error).
 * undici is not used.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for more than one id, an option of
 * the wrong type or out of range, or an endpoint (option or platform variable) that is not an http(s)
 * URL or carries `user:password@`.
 * @throws AzcredError from `getToken`: AZCRED_SOURCE_UNAVAILABLE (probe found no IMDS),
 * AZCRED_CONFIG_INVALID (a user-assigned id the host cannot select, a pin mismatch),
 * AZCRED_TOKEN_REQUEST_FAILED, AZCRED_RESPONSE_INVALID, AZCRED_NETWORK_ERROR, AZCRED_TIMEOUT, AZCRED_ABORTED.
 * @example
 * const credential = new ManagedIdentityCredential({ clientId: '00000000-0000-0000-0000-000000000000' })
 * const { token } = await credential.getToken('https://storage.azure.com/.default')
 */
export class ManagedIdentityCredential implements TokenCredential {
  readonly #binding: ManagedIdentityBinding

  constructor(clientId: string, options?: ManagedIdentityCredentialOptions)
  constructor(options?: ManagedIdentityCredentialOptions)
  constructor(first?: string | ManagedIdentityCredentialOptions, second?: ManagedIdentityCredentialOptions) {
    this.#binding = bindManagedIdentity(first, second, NODE_RUNTIME)
  }

  /** The host detected at construction, with the variable names that decided (never their values). */
  get source(): ManagedIdentitySource {
    return this.#binding.source
  }

  /**
   * A token for one resource's scope (`https://vault.azure.net/.default`), from the cache while valid.
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return getBoundToken(this.#binding, scopes, options)
  }
}
