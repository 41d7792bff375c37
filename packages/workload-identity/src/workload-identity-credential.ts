import { ClientAssertionCredential, type ClientAssertionCredentialOptions } from '@azcred/client-assertion'
import { type AccessToken, AzcredError, ENV_CLIENT_ID, ENV_TENANT_ID, type GetTokenOptions, readEnv, type TokenCredential } from '@azcred/core'
import { createTokenFileProvider } from './token-file-provider'

/** `AZURE_FEDERATED_TOKEN_FILE`: where the AKS webhook projects the service-account token. */
export const ENV_FEDERATED_TOKEN_FILE = 'AZURE_FEDERATED_TOKEN_FILE'

/** Options of {@link WorkloadIdentityCredential}; each falls back to the variable the AKS webhook injects. */
export interface WorkloadIdentityCredentialOptions extends ClientAssertionCredentialOptions {
  /** Default `AZURE_TENANT_ID`. */
  tenantId?: string
  /** Default `AZURE_CLIENT_ID`. */
  clientId?: string
  /** Default `AZURE_FEDERATED_TOKEN_FILE`. */
  tokenFilePath?: string
  /** How long one read of the token file is reused, ms. Default 300 000. */
  tokenFileMaxAgeMs?: number
}

/**
 * AKS workload identity: exchanges the projected Kubernetes service-account token for Entra ID
 * tokens. Reads `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and
 * `AZURE_AUTHORITY_HOST` (options win). The token file is read again at most every 5 minutes and
 * whenever Entra says the token expired, so a kubelet rotation is picked up without a restart.
 *
 * @throws AzcredError from `getToken`: AZCRED_SOURCE_UNAVAILABLE naming the missing variables (a
 * chain moves on), AZCRED_CONFIG_INVALID for an unreadable token file, and the exchange's errors.
 * @example const credential = new WorkloadIdentityCredential()
 */
export class WorkloadIdentityCredential implements TokenCredential {
  readonly #inner: ClientAssertionCredential | undefined
  readonly #missing: string[]

  constructor(options: WorkloadIdentityCredentialOptions = {}) {
    const tenantId = options.tenantId ?? readEnv(ENV_TENANT_ID)
    const clientId = options.clientId ?? readEnv(ENV_CLIENT_ID)
    const path = options.tokenFilePath ?? readEnv(ENV_FEDERATED_TOKEN_FILE)
    this.#missing = [
      [tenantId, `${ENV_TENANT_ID} (or options.tenantId)`],
      [clientId, `${ENV_CLIENT_ID} (or options.clientId)`],
      [path, `${ENV_FEDERATED_TOKEN_FILE} (or options.tokenFilePath)`],
    ]
      .filter(([value]) => value === undefined)
      .map(([, name]) => name as string)
    this.#inner =
      tenantId === undefined || clientId === undefined || path === undefined
        ? undefined
        : new ClientAssertionCredential(tenantId, clientId, createTokenFileProvider({ path, maxAgeMs: options.tokenFileMaxAgeMs }), options)
  }

  /**
   * A token for the scopes.
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#inner === undefined) {
      return Promise.reject(
        new AzcredError(
          'AZCRED_SOURCE_UNAVAILABLE',
          `workload identity is not configured here: ${this.#missing.join(', ')} not set (the AKS workload identity webhook sets them)`,
        ),
      )
    }
    return this.#inner.getToken(scopes, options)
  }
}
