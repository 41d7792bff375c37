import { type AccessToken, AzcredError, type GetTokenOptions, type TokenCredential } from '@azcred/core'
import { bindManagedIdentity, getBoundToken, type ManagedIdentityBinding, type ManagedIdentityRuntime } from './managed-identity-binding'
import { detectHost } from './managed-identity-hosts'
import type { ManagedIdentityCredentialOptions } from './managed-identity-options'
import type { DetectManagedIdentitySourceOptions, ManagedIdentityHostFactory, ManagedIdentitySource } from './managed-identity-request'

/** The rows that need Node are found (so no other host is mistaken for them) and reported unavailable. */
const needsNode: ManagedIdentityHostFactory = (_options, _identity, source) => {
  const refusal = new AzcredError(
    'AZCRED_SOURCE_UNAVAILABLE',
    `managed identity on this host needs Node (${source.reason}), but this runtime loaded the runtime-agnostic build of @azcred/managed-identity: run on Node, which resolves the full build`,
  )
  return { getToken: () => Promise.reject(refusal) }
}

/** The runtime-agnostic build: the hosts reached with `fetch` alone (IMDS, App Service, Azure ML, Cloud Shell). */
const AGNOSTIC_RUNTIME: ManagedIdentityRuntime = {
  factories: { 'workload-identity': needsNode, 'service-fabric': needsNode, 'azure-arc': needsNode },
}

/**
 * Works out which managed identity host this process runs on, from environment variables alone, in
 * the order Microsoft's libraries use: AKS workload identity, Service Fabric, App Service (also
 * Functions, Container Apps), Azure Machine Learning, Cloud Shell, Azure Arc, then IMDS. Makes no
 * network call. This runtime-agnostic build cannot look for the Arc agent on disk (Node's build does).
 *
 * @example console.log(detectManagedIdentitySource().reason)
 */
export function detectManagedIdentitySource(options: DetectManagedIdentitySourceOptions = {}): ManagedIdentitySource {
  return detectHost(options, AGNOSTIC_RUNTIME).source
}

/**
 * Tokens for the managed identity of the Azure resource this code runs on: the runtime-agnostic build
 * (what a runtime without the `node` export condition resolves; Node resolves the full build). Same
 * class, options and detection ({@link detectManagedIdentitySource}); the hosts reached with `fetch`
 * alone are served (IMDS, App Service / Functions / Container Apps, Azure Machine Learning, Cloud
 * Shell), while AKS workload identity, Service Fabric and Azure Arc, which need Node (a token file,
 * TLS pinning, a key file), are reported unavailable. Retries 404, 410, 429, 5xx, network errors and
 * timeouts with backoff (a caller gives up within 15 s by default; while the endpoint answers 410,
 * after up to 75 s); a 400 (identity not found) is final. Uses `options.fetch` (or the global `fetch`)
 * as it is: behind an HTTP proxy, give it a direct `fetch`. No request follows a redirect.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for more than one id, an option of
 * the wrong type or out of range, or an endpoint (option or platform variable) that is not an http(s)
 * URL or carries `user:password@`.
 * @throws AzcredError from `getToken`: AZCRED_SOURCE_UNAVAILABLE (probe found no IMDS, or a host that
 * needs Node), AZCRED_CONFIG_INVALID (a user-assigned id the host cannot select),
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
    this.#binding = bindManagedIdentity(first, second, AGNOSTIC_RUNTIME)
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
