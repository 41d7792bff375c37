import { AzcredError, TokenRequestError } from './azcred-error'
import { abortedError } from './http'
import { backoffDelay, DEFAULT_RETRY, isTransient, type RetryOptions } from './retry-policy'
import { allowedTenants, resolveTenant } from './tenant'
import type { AbortSignalLike, AccessToken, GetTokenOptions } from './token-credential'
import type { TokenEvent, TokenEventListener } from './token-events'
import { normalizeScopes } from './validate'

/** What a flow is asked to fetch. */
export interface TokenRequest {
  scopes: readonly string[]
  tenantId: string
  claims: string | undefined
  enableCae: boolean
  /** The first caller's `requestOptions.timeout`, in milliseconds. */
  timeoutMs: number | undefined
}

/** A flow's one job: request a token for these scopes, once, with no caching or retrying. */
export type TokenFetcher = (request: TokenRequest) => Promise<AccessToken>

/** When tokens are refreshed. */
export interface RefreshOptions {
  /** Refresh when less than this is left (when Entra sends no `refresh_in`), ms. Default 300 000 (5 min). */
  marginMs?: number
  /** Largest random extra margin, drawn once per credential, capped at half the lifetime, ms. Default 600 000 (10 min). */
  maxJitterMs?: number
  /** After a failed background refresh, wait at least this long before the next one, ms. Default 30 000. */
  retryIntervalMs?: number
  /** A token counts as expired this long before its `expires_on`, ms. Default 30 000. */
  clockSkewMs?: number
}

/** Lifecycle options every credential accepts. */
export interface TokenLifecycleOptions {
  /** Receives typed events (never a token or secret). */
  onEvent?: TokenEventListener
  /** Retries of transient failures. */
  retry?: RetryOptions
  /** Proactive refresh. */
  refresh?: RefreshOptions
}

/** Everything the engine needs from a credential. */
export interface TokenLifecycleConfig extends TokenLifecycleOptions {
  /** Name used in events, such as `ClientSecretCredential`. */
  credentialName: string
  /** The configured tenant (validated). */
  tenantId: string
  /** Tenants a call may switch to; `*` for any. */
  additionallyAllowedTenants?: readonly string[] | undefined
  /** Requests one token. */
  fetchToken: TokenFetcher
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number
  /** Which failures are worth another attempt. Default {@link isTransient} (network, timeout, 408, 429, 5xx). */
  isRetryable?: (error: unknown) => boolean
}

interface CacheEntry {
  scopes: readonly string[]
  tenantId: string
  enableCae: boolean
  token: AccessToken | undefined
  /** `Promise.resolve(token)`, made once, so a cache hit allocates nothing. */
  settled: Promise<AccessToken> | undefined
  refreshAt: number
  validUntil: number
  inflight: Promise<AccessToken> | undefined
  nextRefreshAttempt: number
}

const MAX_TIMER_MS = 2_147_000_000

function ignore(): void {}

/** Waits for `promise` unless `signal` fires first; the promise itself is never cancelled. */
function waitFor<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(abortedError())
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS)))
}

/**
 * The token lifecycle every azcred credential shares: a cache keyed by tenant, scopes and CAE;
 * single-flight (concurrent callers share one request); proactive background refresh at Entra's
 * `refresh_in` or a jittered margin before expiry; serve-while-valid when a refresh fails; retry with
 * full-jitter backoff honouring `Retry-After`; 429 memory; claims challenges that bypass the cache;
 * per-caller abort; typed events.
 *
 * A cache hit creates no timer, no promise and no closure: it returns the stored resolved promise.
 */
export class TokenLifecycle {
  readonly #config: TokenLifecycleConfig
  readonly #allowedTenants: string[]
  readonly #defaultTenant: string
  readonly #entries = new Map<string, CacheEntry>()
  readonly #retry: Required<RetryOptions>
  readonly #random: () => number
  readonly #jitterFraction: number
  #throttledUntil = 0
  #throttleError: TokenRequestError | undefined

  constructor(config: TokenLifecycleConfig) {
    this.#config = config
    this.#defaultTenant = config.tenantId
    this.#allowedTenants = allowedTenants(config.additionallyAllowedTenants)
    this.#retry = { ...DEFAULT_RETRY, ...config.retry }
    this.#random = config.random ?? Math.random
    this.#jitterFraction = this.#random()
  }

  /**
   * Returns a valid token for the scopes, from the cache when it can.
   * @throws AzcredError AZCRED_CONFIG_INVALID for bad scopes or a tenant that is not allowed,
   * AZCRED_ABORTED when the caller's signal fires, or the flow's last error.
   */
  getToken(scopes: string | readonly string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (options === undefined || (options.tenantId === undefined && options.claims === undefined && options.enableCae !== true)) {
      const key = typeof scopes === 'string' ? scopes : scopes.length === 1 ? scopes[0] : undefined
      const entry = key === undefined ? undefined : this.#entries.get(key)
      if (entry?.settled !== undefined && Date.now() < entry.refreshAt) return entry.settled
    }
    return this.#getTokenSlowly(scopes, options ?? {})
  }

  /** Forgets every cached token (in-flight requests finish but are not stored). */
  clear(): void {
    this.#entries.clear()
  }

  #getTokenSlowly(scopes: string | readonly string[], options: GetTokenOptions): Promise<AccessToken> {
    let scopeList: string[]
    let tenantId: string
    try {
      scopeList = normalizeScopes(scopes)
      tenantId = resolveTenant(this.#defaultTenant, options.tenantId, this.#allowedTenants)
    } catch (error) {
      return Promise.reject(error)
    }
    const enableCae = options.enableCae === true
    const entry = this.#entryFor(scopes, scopeList, tenantId, enableCae)
    const request: TokenRequest = { scopes: scopeList, tenantId, claims: options.claims, enableCae, timeoutMs: options.requestOptions?.timeout }
    if (options.claims !== undefined) {
      // A claims challenge always goes to the endpoint, and its answer replaces the entry.
      return waitFor(this.#acquire(entry, request, 'acquired'), options.abortSignal)
    }
    const now = Date.now()
    if (entry.settled !== undefined && now < entry.validUntil) {
      if (now >= entry.refreshAt) this.#refreshInBackground(entry, request, now)
      return entry.settled
    }
    if (entry.inflight === undefined) {
      const inflight = this.#acquire(entry, request, 'acquired')
      entry.inflight = inflight
      inflight.then(
        () => this.#settle(entry, inflight),
        () => this.#settle(entry, inflight),
      )
    }
    return waitFor(entry.inflight, options.abortSignal)
  }

  #settle(entry: CacheEntry, inflight: Promise<AccessToken>): void {
    if (entry.inflight === inflight) entry.inflight = undefined
  }

  #entryFor(raw: string | readonly string[], scopeList: string[], tenantId: string, enableCae: boolean): CacheEntry {
    const isDefault = tenantId === this.#defaultTenant && !enableCae
    let key = scopeList.length === 1 ? (scopeList[0] as string) : [...scopeList].sort().join(' ')
    if (!isDefault) key = `${key}\n${tenantId.toLowerCase()}\n${enableCae ? 'cae' : ''}`
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = {
        scopes: scopeList,
        tenantId,
        enableCae,
        token: undefined,
        settled: undefined,
        refreshAt: 0,
        validUntil: 0,
        inflight: undefined,
        nextRefreshAttempt: 0,
      }
      this.#entries.set(key, entry)
    }
    if (isDefault) {
      // Let the fast path find this entry under the spelling the caller used.
      const rawKey = typeof raw === 'string' ? raw : raw.length === 1 ? raw[0] : undefined
      if (rawKey !== undefined && rawKey !== key) this.#entries.set(rawKey, entry)
    }
    return entry
  }

  #refreshInBackground(entry: CacheEntry, request: TokenRequest, now: number): void {
    if (entry.inflight !== undefined || now < entry.nextRefreshAttempt || now < this.#throttledUntil) return
    const inflight = this.#acquire(entry, request, 'refreshed')
    entry.inflight = inflight
    inflight.then(
      () => this.#settle(entry, inflight),
      (error: unknown) => {
        this.#settle(entry, inflight)
        const at = Date.now()
        entry.nextRefreshAttempt = at + (this.#config.refresh?.retryIntervalMs ?? 30_000)
        const { code, status, aadstsCode } = error as Partial<TokenRequestError>
        this.#emit('refresh-failed', request, {
          code: code ?? 'UNKNOWN',
          status,
          aadstsCode,
          nextAttemptAt: entry.nextRefreshAttempt,
          validUntil: entry.validUntil,
        })
      },
    )
  }

  #acquire(entry: CacheEntry, request: TokenRequest, kind: 'acquired' | 'refreshed'): Promise<AccessToken> {
    const started = Date.now()
    const retry = kind === 'refreshed' ? { ...this.#retry, maxAttempts: 1 } : this.#retry
    const promise = this.#fetchWithRetry(request, retry).then(({ token, attempts }) => {
      const stored = this.#store(entry, token)
      this.#emit(kind, request, {
        durationMs: Date.now() - started,
        attempts,
        expiresOnTimestamp: token.expiresOnTimestamp,
        refreshAtTimestamp: entry.refreshAt,
      })
      return stored
    })
    promise.catch(ignore) // waiters may all have aborted; the rejection is theirs, not unhandled
    return promise
  }

  #store(entry: CacheEntry, token: AccessToken): AccessToken {
    const now = Date.now()
    const refresh = this.#config.refresh
    const validUntil = token.expiresOnTimestamp - (refresh?.clockSkewMs ?? 30_000)
    let refreshAt: number
    if (token.refreshAfterTimestamp !== undefined) {
      refreshAt = Math.min(token.refreshAfterTimestamp, validUntil)
    } else {
      const lifetime = Math.max(0, token.expiresOnTimestamp - now)
      const jitter = this.#jitterFraction * Math.min(refresh?.maxJitterMs ?? 600_000, lifetime / 2)
      const before = Math.min((refresh?.marginMs ?? 300_000) + jitter, lifetime / 2)
      refreshAt = Math.min(token.expiresOnTimestamp - before, validUntil)
    }
    const stored: AccessToken = {
      token: token.token,
      expiresOnTimestamp: token.expiresOnTimestamp,
      refreshAfterTimestamp: refreshAt,
      tokenType: token.tokenType ?? 'Bearer',
    }
    entry.token = stored
    entry.settled = Promise.resolve(stored)
    entry.refreshAt = refreshAt
    entry.validUntil = validUntil
    entry.nextRefreshAttempt = 0
    return stored
  }

  async #fetchWithRetry(request: TokenRequest, retry: Required<RetryOptions>): Promise<{ token: AccessToken; attempts: number }> {
    const started = Date.now()
    for (let attempt = 1; ; attempt += 1) {
      await this.#waitOutThrottle(started, retry)
      try {
        return { token: await this.#config.fetchToken(request), attempts: attempt }
      } catch (error) {
        this.#noteThrottle(error, request)
        if (!(this.#config.isRetryable ?? isTransient)(error) || attempt >= retry.maxAttempts) throw error
        const failure = error as TokenRequestError
        const delayMs = backoffDelay(attempt, retry, this.#random, failure.retryAfterMs)
        if (Date.now() + delayMs - started > retry.maxElapsedMs) throw error
        this.#emit('retry-scheduled', request, { attempt, delayMs, code: failure.code, status: failure.status })
        await sleep(delayMs)
      }
    }
  }

  async #waitOutThrottle(started: number, retry: Required<RetryOptions>): Promise<void> {
    const wait = this.#throttledUntil - Date.now()
    if (wait <= 0) return
    if (retry.maxAttempts === 1 || Date.now() + wait - started > retry.maxElapsedMs) {
      throw this.#throttleError ?? new AzcredError('AZCRED_TOKEN_REQUEST_FAILED', 'the token endpoint is throttling this credential (HTTP 429)')
    }
    await sleep(wait)
  }

  #noteThrottle(error: unknown, request: TokenRequest): void {
    if (!(error instanceof TokenRequestError) || error.status !== 429 || error.retryAfterMs === undefined) return
    const until = Date.now() + error.retryAfterMs
    if (until <= this.#throttledUntil) return
    this.#throttledUntil = until
    this.#throttleError = error
    this.#emit('throttled', request, { retryAfterMs: error.retryAfterMs, until })
  }

  #emit(type: TokenEvent['type'], request: TokenRequest, details: Record<string, unknown>): void {
    const listener = this.#config.onEvent
    if (listener === undefined) return
    const event = { type, credential: this.#config.credentialName, scopes: request.scopes, tenantId: request.tenantId, at: Date.now(), ...details }
    try {
      listener(event as TokenEvent)
    } catch {
      // A listener's failure must never fail a token request.
    }
  }
}
