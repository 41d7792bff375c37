import {
  type AccessToken,
  AzcredError,
  type FetchLike,
  type GetTokenOptions,
  proxyFromEnv,
  readEnv,
  type TokenCredential,
  type TokenLifecycle,
} from '@azcred/core'
import { WorkloadIdentityCredential } from '@azcred/workload-identity'
import { createAppServiceHost, ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER } from './managed-identity-app-service'
import { createArcHost, DEFAULT_ARC_ENDPOINT, defaultArcKeyDirectory } from './managed-identity-arc'
import { createAzureMlHost, ENV_DEFAULT_IDENTITY_CLIENT_ID, ENV_MSI_SECRET } from './managed-identity-azure-ml'
import { createCloudShellHost, ENV_MSI_ENDPOINT } from './managed-identity-cloud-shell'
import { directFetch } from './managed-identity-direct-fetch'
import { createImdsHostFromOptions } from './managed-identity-imds'
import { createManagedIdentityLifecycle, getManagedIdentityToken } from './managed-identity-lifecycle'
import { type ManagedIdentityCredentialOptions, readConstructorArguments } from './managed-identity-options'
import { type ManagedIdentityHost, parseEndpoint } from './managed-identity-request'
import { createServiceFabricHost, ENV_IDENTITY_SERVER_THUMBPRINT } from './managed-identity-service-fabric'
import { detectManagedIdentitySource, type ManagedIdentitySource } from './managed-identity-source'

function required(name: string): string {
  return readEnv(name) as string
}

/** A platform variable that holds an endpoint URL, checked. @throws AzcredError AZCRED_CONFIG_INVALID */
function endpointFrom(name: string): string {
  return parseEndpoint(required(name), name).href
}

function hostFor(source: ManagedIdentitySource, options: ManagedIdentityCredentialOptions): ManagedIdentityHost {
  switch (source.name) {
    case 'service-fabric':
      return createServiceFabricHost(endpointFrom(ENV_IDENTITY_ENDPOINT), required(ENV_IDENTITY_HEADER), required(ENV_IDENTITY_SERVER_THUMBPRINT))
    case 'app-service':
      return createAppServiceHost(endpointFrom(ENV_IDENTITY_ENDPOINT), required(ENV_IDENTITY_HEADER))
    case 'azure-ml':
      return createAzureMlHost(endpointFrom(ENV_MSI_ENDPOINT), required(ENV_MSI_SECRET), readEnv(ENV_DEFAULT_IDENTITY_CLIENT_ID))
    case 'cloud-shell':
      return createCloudShellHost(endpointFrom(ENV_MSI_ENDPOINT))
    case 'azure-arc':
      return createArcHost(
        readEnv(ENV_IDENTITY_ENDPOINT) === undefined ? DEFAULT_ARC_ENDPOINT : endpointFrom(ENV_IDENTITY_ENDPOINT),
        options.arcKeyDirectory ?? defaultArcKeyDirectory(),
      )
    default:
      return createImdsHostFromOptions(options)
  }
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
  readonly #source: ManagedIdentitySource
  readonly #lifecycle: TokenLifecycle | undefined
  readonly #workload: WorkloadIdentityCredential | undefined
  /** Set when the options ask for something the detected host cannot do. */
  readonly #refusal: AzcredError | undefined

  constructor(clientId: string, options?: ManagedIdentityCredentialOptions)
  constructor(options?: ManagedIdentityCredentialOptions)
  constructor(first?: string | ManagedIdentityCredentialOptions, second?: ManagedIdentityCredentialOptions) {
    const { options, identity } = readConstructorArguments(first, second)
    const clientId = identity?.kind === 'clientId' ? identity.value : undefined
    this.#source = detectManagedIdentitySource({ clientId })
    if (this.#source.name === 'workload-identity') {
      if (identity !== undefined && clientId === undefined) {
        this.#refusal = new AzcredError(
          'AZCRED_CONFIG_INVALID',
          `AKS workload identity selects an identity by client id, but options.${identity.kind} was given: pass clientId`,
        )
        return
      }
      const { fetch, timeoutMs, onEvent, retry, retryOptions, refresh } = options
      this.#workload = new WorkloadIdentityCredential({ clientId, fetch, timeoutMs, onEvent, retry, retryOptions, refresh })
      return
    }
    const host = hostFor(this.#source, options)
    // Managed identity endpoints live on this machine or link-local: no proxy can reach them. The
    // direct transport is the default, and replaces options.fetch while proxy variables are set
    // (read per request: they may be set after construction, by a .env loader for instance).
    const direct = directFetch()
    const { fetch } = options
    const transport: FetchLike = fetch === undefined ? direct : (input, init) => (proxyFromEnv() ? direct : fetch)(input, init)
    this.#lifecycle = createManagedIdentityLifecycle(host, identity, options, transport)
  }

  /** The host detected at construction, with the variable names that decided (never their values). */
  get source(): ManagedIdentitySource {
    return this.#source
  }

  /**
   * A token for one resource's scope (`https://vault.azure.net/.default`), from the cache while valid.
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#refusal !== undefined) return Promise.reject(this.#refusal)
    if (this.#workload !== undefined) return getManagedIdentityToken(this.#workload, scopes, options, false)
    return getManagedIdentityToken(this.#lifecycle as TokenLifecycle, scopes, options)
  }
}
