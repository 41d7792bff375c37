import { type AbortSignalLike, type AccessToken, type FetchLike, type GetTokenOptions, TokenLifecycle, type TokenRequest } from '@azcred/core'
import type { ManagedIdentityCredentialOptions, UserAssignedIdentity } from './managed-identity-options'
import { isManagedIdentityRetryable, type ManagedIdentityHost, scopeToResource, slowDownWhenGone } from './managed-identity-request'

/** Managed identity's retry defaults: 10 attempts within 75 s, 1 s doubling to 10 s (and 10 s after a 410, `goneDelayMs`). */
export const MANAGED_IDENTITY_RETRY = Object.freeze({ maxAttempts: 10, maxElapsedMs: 75_000, baseDelayMs: 1_000, maxDelayMs: 10_000 })

// Managed identity has no tenant to switch to; the engine still keys its cache by one.
const NO_TENANT = 'managed-identity'

/**
 * The core lifecycle (cache, single-flight, refresh, retry) around one host. `fetchOverride`, when
 * given, replaces `options.fetch` (the main entry's direct transport while proxy variables are set).
 */
export function createManagedIdentityLifecycle(
  host: ManagedIdentityHost,
  identity: UserAssignedIdentity | undefined,
  options: ManagedIdentityCredentialOptions,
  fetchOverride?: FetchLike,
): TokenLifecycle {
  // Without retry options every credential shares the one frozen default (less heap per credential).
  const { goneDelayMs = 10_000, ...custom } = options.retry ?? {}
  const retry = options.retry === undefined ? MANAGED_IDENTITY_RETRY : { ...MANAGED_IDENTITY_RETRY, ...custom }
  const { timeoutMs } = options
  const fetch = fetchOverride ?? options.fetch
  return new TokenLifecycle({
    onEvent: options.onEvent,
    refresh: options.refresh,
    retry,
    credentialName: 'ManagedIdentityCredential',
    tenantId: NO_TENANT,
    isRetryable: isManagedIdentityRetryable,
    fetchToken: async (request) => {
      const resource = scopeToResource(request.scopes)
      try {
        const { abortSignal } = request as TokenRequest & { abortSignal?: AbortSignalLike }
        return await host.fetchToken({ resource, identity, fetch, timeoutMs: request.timeoutMs ?? timeoutMs, abortSignal })
      } catch (error) {
        throw slowDownWhenGone(error, goneDelayMs)
      }
    },
  })
}

/** Managed identity ignores `tenantId` (the identity lives in the resource's tenant). */
export function withoutTenant(options: GetTokenOptions | undefined): GetTokenOptions | undefined {
  return options?.tenantId === undefined ? options : { ...options, tenantId: undefined }
}

/**
 * `lifecycle.getToken` without a `tenantId`; more than one scope is refused first, before the cache
 * or a remembered failure could answer for it.
 * @throws AzcredError AZCRED_CONFIG_INVALID for more than one scope.
 */
export function getManagedIdentityToken(lifecycle: TokenLifecycle, scopes: string | string[], options: GetTokenOptions | undefined): Promise<AccessToken> {
  try {
    if (Array.isArray(scopes) && scopes.length > 1) scopeToResource(scopes)
  } catch (error) {
    return Promise.reject(error)
  }
  return lifecycle.getToken(scopes, withoutTenant(options))
}
