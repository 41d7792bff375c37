import {
  type AbortSignalLike,
  type AccessToken,
  AzcredError,
  ENV_LOG_LEVEL,
  type FetchLike,
  type GetTokenOptions,
  lifecycleOptions,
  MAX_THROTTLE_MS,
  readEnv,
  type TokenEvent,
  TokenLifecycle,
  type TokenRequest,
  type TokenRequestError,
  throwIfAborted,
} from '@azcred/core'
import type { ManagedIdentityCredentialOptions, ManagedIdentityRetryOptions, UserAssignedIdentity } from './managed-identity-options'
import { isManagedIdentityRetryable, type ManagedIdentityHost, scopeToResource, slowDownWhenGone, type TokenSource } from './managed-identity-request'

/**
 * While the endpoint answers 410 (IMDS being upgraded), a call keeps trying this long, ms, waiting
 * `retry.goneDelayMs` (10 s) between attempts: Microsoft asks for at least 70 s. A `retry.maxElapsedMs`
 * the caller sets replaces it.
 */
export const GONE_BUDGET_MS = 75_000

// Managed identity has no tenant to switch to; the engine still keys its cache by one.
const NO_TENANT = 'managed-identity'
const CREDENTIAL = 'ManagedIdentityCredential'

/** Per shared request (the lifecycle passes the same object to every attempt): its start and requests sent. */
const flights = new WeakMap<object, { started: number; sent: number; calls: number }>()
/** Errors whose request already used every attempt (410 retries included): the lifecycle must not add one. */
const spent = new WeakSet<object>()

function isRetryable(error: unknown): boolean {
  return isManagedIdentityRetryable(error) && !spent.has(error as object)
}

/**
 * Managed identity's retry defaults, in `@azure/identity`'s spelling so that the caller's `retryOptions`
 * and then `retry` are laid over them (core maps them): 10 attempts, 1 s doubling to 10 s. The budget
 * is core's default, 15 s (see {@link GONE_BUDGET_MS} for 410).
 */
const DEFAULT_RETRY_OPTIONS = Object.freeze({ maxRetries: 9, retryDelayInMs: 1_000, maxRetryDelayInMs: 10_000 })

/**
 * The core lifecycle (cache, single-flight, refresh, retry) around one host. `fetchOverride`, when
 * given, replaces `options.fetch` (the main entry's direct transport while proxy variables are set).
 * The lifecycle retries with a caller's budget (`retry.maxElapsedMs`, default 15 s); a 410 is retried
 * here, every `goneDelayMs`, for up to {@link GONE_BUDGET_MS} from the first attempt, so an IMDS
 * upgrade is waited out. Every request counts against `retry.maxAttempts`.
 */
export function createManagedIdentityLifecycle(
  host: ManagedIdentityHost,
  identity: UserAssignedIdentity | undefined,
  options: ManagedIdentityCredentialOptions,
  fetchOverride?: FetchLike,
): TokenLifecycle {
  // The one typed pick of lifecycle options (core's), so an option added to the engine reaches managed
  // identity on every host and entry; only the retry settings are then adapted below.
  const picked = lifecycleOptions(options)
  const { timeoutMs, onEvent, retryOptions } = picked
  const { goneDelayMs = 10_000, ...retry } = (picked.retry ?? {}) as ManagedIdentityRetryOptions
  const goneBudgetMs = retry.maxElapsedMs ?? GONE_BUDGET_MS
  const maxAttempts = retry.maxAttempts ?? (retryOptions?.maxRetries ?? 9) + 1
  const fetch = fetchOverride ?? options.fetch
  return new TokenLifecycle({
    ...picked,
    // Core lays `retryOptions` over its defaults and `retry` over both; its default budget is 15 s.
    // Without retry options every credential shares one frozen object (less heap per credential).
    retryOptions: retryOptions === undefined ? DEFAULT_RETRY_OPTIONS : { ...DEFAULT_RETRY_OPTIONS, ...retryOptions },
    // `goneDelayMs` is managed identity's own (used here, not by the engine).
    retry: picked.retry && retry,
    credentialName: CREDENTIAL,
    tenantId: NO_TENANT,
    isRetryable,
    fetchToken: async (request) => {
      const resource = scopeToResource(request.scopes)
      const { abortSignal } = request as TokenRequest & { abortSignal?: AbortSignalLike }
      const flight = flights.get(request) ?? { started: Date.now(), sent: 0, calls: 0 }
      flights.set(request, flight)
      flight.calls += 1
      for (;;) {
        flight.sent += 1
        let error: TokenRequestError
        try {
          return await host.fetchToken({ resource, identity, fetch, timeoutMs: request.timeoutMs ?? timeoutMs, abortSignal })
        } catch (caught) {
          error = slowDownWhenGone(caught, goneDelayMs) as TokenRequestError
        }
        const { status, code } = error
        const delayMs = Math.min(error.retryAfterMs ?? 0, MAX_THROTTLE_MS)
        const left = flight.sent < maxAttempts
        if (status !== 410 || !left || Date.now() + delayMs - flight.started > goneBudgetMs) {
          // 410 retries made here used attempts the lifecycle does not count: it must stop at the limit too.
          if (!left && flight.sent > flight.calls && error instanceof Error) spent.add(error)
          throw error
        }
        const event = { type: 'retry-scheduled', credential: CREDENTIAL, scopes: request.scopes, tenantId: NO_TENANT, at: Date.now() } as const
        emit(onEvent, { ...event, attempt: flight.sent, delayMs, code, status })
        // The wait ends early when the request is aborted (every caller gave up), then AZCRED_ABORTED.
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, delayMs)
          abortSignal?.addEventListener('abort', () => resolve(clearTimeout(timer)), { once: true })
        })
        throwIfAborted(abortSignal)
      }
    },
  })
}

/** Sends an event to the listener (or, without one, to stderr under `AZURE_LOG_LEVEL=info`/`verbose`, as core does). */
function emit(listener: ((event: TokenEvent) => void) | undefined, event: TokenEvent): void {
  try {
    if (listener) listener(event)
    else if (/^(info|verbose)$/.test(readEnv(ENV_LOG_LEVEL) as string)) console.warn(`azcred ${JSON.stringify(event)}`)
  } catch {
    // A listener's failure must never fail a token request.
  }
}

/** Managed identity ignores `tenantId` (the identity lives in the resource's tenant). */
function withoutTenant(options: GetTokenOptions | undefined): GetTokenOptions | undefined {
  return options?.tenantId === undefined ? options : { ...options, tenantId: undefined }
}

/**
 * `target.getToken` without a `tenantId`; with `oneScope` (every host but AKS workload identity) more
 * than one scope is refused first, before the cache or a remembered failure could answer for it.
 * Never throws synchronously: whatever reading the scopes or options throws (a Proxy, a throwing
 * getter) becomes a rejected promise.
 * @throws AzcredError AZCRED_CONFIG_INVALID for more than one scope, or scopes or options that throw when read.
 */
export function getManagedIdentityToken(
  target: TokenSource,
  scopes: string | string[],
  options: GetTokenOptions | undefined,
  oneScope = true,
): Promise<AccessToken> {
  try {
    if (oneScope && Array.isArray(scopes) && scopes.length > 1) scopeToResource(scopes)
    return target.getToken(scopes, withoutTenant(options))
  } catch (error) {
    return Promise.reject(
      AzcredError.isInstance(error) ? error : new AzcredError('AZCRED_CONFIG_INVALID', 'getToken: reading scopes or options threw: pass plain values'),
    )
  }
}
