import { AzcredError, type TokenRequestError } from './azcred-error'
import { ENV_LOG_LEVEL, readEnv } from './env'
import { abortedError, ignore } from './http'
import { backoffDelay, DEFAULT_RETRY, isTransient, type RetryOptions, type RetryPolicyOptions } from './retry-policy'
import { allowedTenants, resolveTenant } from './tenant'
import { parseTokenCacheEntry, serializeTokenCacheEntry, type TokenCache, type TokenCachePartition, tokenCacheKey } from './token-cache'
import type { AbortSignalLike, AccessToken, GetTokenOptions } from './token-credential'
import type { TokenEvent, TokenEventListener } from './token-events'
import type { TokenResponse } from './token-response'
import { assertAppOnlyTenant, assertConfig, checkNumber, normalizeScopes } from './validate'

/**
 * What a flow is asked to fetch.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface TokenRequest {
  scopes: readonly string[]
  tenantId: string
  claims: string | undefined
  enableCae: boolean
  /**
   * @deprecated Always undefined: one request is shared by every caller waiting for it, so it runs
   * with the credential's own timeout; a caller's `requestOptions.timeout` only ends that caller's wait.
   */
  timeoutMs?: number | undefined
  /**
   * Fires when every caller waiting for this request has aborted or timed out (a `TokenManager`
   * aborts its own calls on `stop()`). Pass it to the HTTP request, so the socket and any retry end.
   */
  abortSignal?: AbortSignalLike
  /**
   * True only for a proactive background refresh (no caller is waiting for it): a user's flow must
   * then run its silent path only (cache, refresh token), never a prompt.
   */
  background: boolean
}

/**
 * A flow's one job: request a token for these scopes, once, with no caching or retrying. A
 * `TokenResponse` (a user's flows) also hands its refresh token and account to the `tokenCache`.
 * @internal For azcred's own packages; not covered by semver.
 */
export type TokenFetcher = (request: TokenRequest) => Promise<AccessToken | TokenResponse>

/**
 * When tokens are refreshed. Each value is 0 to 86 400 000 ms.
 * @public
 */
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

/**
 * Lifecycle options every credential accepts. Numbers are range-checked when the credential is built.
 * @public
 */
export interface TokenLifecycleOptions {
  /**
   * Receives typed events (never a token or secret). Without it, `AZURE_LOG_LEVEL=info` or `verbose`
   * writes each event as one JSON line to `console.warn` (stderr on Node, as `@azure/logger` logs).
   */
  onEvent?: TokenEventListener
  /** Retries of transient failures. */
  retry?: RetryOptions
  /** `@azure/identity`'s spelling of {@link retry}, mapped onto it. */
  retryOptions?: RetryPolicyOptions
  /** Proactive refresh. */
  refresh?: RefreshOptions
  /** Time allowed for one token request, in milliseconds: 1 to 600 000. Default 30 000. */
  timeoutMs?: number
  /**
   * Accepted for `@azure/identity` compatibility. azcred logs nothing itself; its events never hold
   * account identifiers or secrets, so neither setting changes anything.
   */
  loggingOptions?: { allowLoggingAccountIdentifiers?: boolean; enableUnsafeSupportLogging?: boolean }
  /**
   * A cache shared beyond this credential (`MemoryTokenCache`, a file, Redis): read when this
   * credential has no valid token in memory, written after each token it gets. A cache that throws,
   * rejects or takes over {@link TOKEN_CACHE_TIMEOUT_MS} never fails a request (event `cache-error`).
   * An object without `read` and `write` functions (a `Map`, a raw Redis client) is
   * `AZCRED_CONFIG_INVALID` when the credential is built. Default none: tokens live in this credential only.
   */
  tokenCache?: TokenCache
}

/**
 * The names {@link lifecycleOptions} picks: every option of {@link TokenLifecycleOptions}.
 * @internal For azcred's own packages; not covered by semver.
 */
export const LIFECYCLE_OPTION_NAMES = ['onEvent', 'retry', 'retryOptions', 'refresh', 'timeoutMs', 'loggingOptions', 'tokenCache'] as const

/**
 * The lifecycle options of a credential's options (those in {@link LIFECYCLE_OPTION_NAMES} that are not
 * undefined, read once each), so every credential passes the same set to the engine, and an option
 * added to the engine reaches every flow. Checked by the `TokenLifecycle` constructor, not here.
 * @example new TokenLifecycle({ ...lifecycleOptions(options), credentialName, tenantId, fetchToken })
 * @internal For azcred's own packages; not covered by semver.
 */
export function lifecycleOptions(options: TokenLifecycleOptions | undefined): TokenLifecycleOptions {
  const picked: Record<string, unknown> = {}
  for (const name of LIFECYCLE_OPTION_NAMES) {
    const value = options?.[name]
    if (value !== undefined) picked[name] = value
  }
  return picked
}

/**
 * Everything the engine needs from a credential.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface TokenLifecycleConfig extends TokenLifecycleOptions {
  /** Name used in events, such as `ClientSecretCredential`. */
  credentialName: string
  /** The configured tenant (validated). */
  tenantId: string
  /** Tenants a call may switch to; `*` for any. */
  additionallyAllowedTenants?: readonly string[] | undefined
  /** An app-only (client credentials) flow: `common`, `organizations` and `consumers` are refused, configured or per call. */
  appOnly?: boolean
  /** Requests one token. */
  fetchToken: TokenFetcher
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number
  /** Which failures are worth another attempt. Default {@link isTransient} (network, timeout, 408, 429, 5xx). */
  isRetryable?: (error: unknown) => boolean
  /**
   * The `tokenCache` partition of this credential (the tenant, scopes and CAE of each request are
   * added): its authority host, client id (a managed identity's id) and account (`''` app-only). A
   * function, as a user's account is known only after sign-in. Required with `tokenCache`, so that two
   * apps or identities sharing a cache never share an entry.
   */
  cachePartition?: () => { authority: string; clientId: string; account: string }
}

/**
 * Longest wait for a `tokenCache` read or write, in milliseconds (2 s), unless the cache asks for its own
 * `timeoutMs` (at most 30 s); a slower cache is skipped for that request (event `cache-error`, reason `timeout`).
 * @public
 */
export const TOKEN_CACHE_TIMEOUT_MS = 2_000

/**
 * After a caller's retries ran out on a transient failure, new callers for the same cache entry
 * (tenant, scopes, CAE) get that same error at once for the server's `Retry-After` (at most
 * {@link MAX_THROTTLE_MS}) or else, when it sent none or 0 or a past date, this long, in milliseconds.
 * @public
 */
export const FAIL_FAST_MS = 5_000

/**
 * Longest a server's `Retry-After` is honoured and remembered, in milliseconds (60 s): a 429 asking for
 * longer blocks requests of that cache entry (tenant, scopes, CAE) for 60 s; its next success ends the
 * block. Other tenants and scopes are not blocked.
 * @public
 */
export const MAX_THROTTLE_MS = 60_000

/** One request in flight, shared by its waiters. */
interface Flight {
  promise: Promise<AccessToken>
  controller: AbortController
  waiters: number
  /** A caller joined it (a background refresh joined after the token expired: its failure is not theirs). */
  joined?: boolean
}

interface CacheEntry {
  /** `Promise.resolve(token)`, made once, so a cache hit allocates nothing. */
  settled: Promise<AccessToken> | undefined
  refreshAt: number
  validUntil: number
  nextAttemptAt: number
  /** Requests in flight: the plain one under `undefined`, claims challenges under their claims. */
  flights: Map<string | undefined, Flight>
  /** Nothing is sent before `until`; a caller either waits (`waits`: a 429 within its budget) or gets `error`. */
  blocked: { until: number; error?: unknown; waits?: boolean }
}

const DAY_MS = 86_400_000
// What the tokenCache timer rejects with: an object no cache can reject with.
const TIMED_OUT = {}
const OFFICIAL_RETRY: Record<string, string> = { maxRetries: 'maxAttempts', retryDelayInMs: 'baseDelayMs', maxRetryDelayInMs: 'maxDelayMs' }

/** Resolves after `ms`, or rejects with AZCRED_ABORTED as soon as `signal` fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', end)
      if (signal.aborted) reject(abortedError())
      else resolve()
    }
    const timer = setTimeout(end, ms)
    signal.addEventListener('abort', end)
    if (signal.aborted) end()
  })
}

/** The `AZURE_LOG_LEVEL` bridge: one line per event on stderr (`console.warn`), as `@azure/logger` writes. */
function logEvent(event: TokenEvent): void {
  console.warn(`azcred ${JSON.stringify(event)}`)
}

/**
 * The token lifecycle every azcred credential shares: a cache keyed by tenant, scopes and CAE;
 * single-flight (concurrent callers, claims challenges included, share one request, which is aborted
 * when its last waiter aborts or times out); proactive background refresh at Entra's `refresh_in` or
 * a jittered margin before expiry; serve-while-valid when a refresh fails; retry with equal-jitter
 * backoff honouring `Retry-After` up to {@link MAX_THROTTLE_MS}; 429 memory (cleared by a success); a fail-fast
 * window after retries ran out ({@link FAIL_FAST_MS}), both per cache entry; per-caller abort and
 * timeout; typed events. With a `tokenCache` (and the credential's `cachePartition`), a cold miss in
 * memory, and a background refresh, first read the shared cache inside the single flight (a valid entry,
 * newer than the one held, needs no request: event `cache-hit`), and every token fetched is written to
 * it; a cache that fails or is slow only costs an event (`cache-error`). `TokenRequest.background` tells
 * the fetcher a proactive refresh from a caller's request. A token that expires within `refresh.clockSkewMs` of its arrival is refused
 * (`AZCRED_RESPONSE_INVALID`), so none is handed out already expired.
 *
 * A cache hit creates no timer, no promise and no closure: it returns the stored resolved promise.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a retry, refresh or timeout
 * number out of range, an option of the wrong type, (`appOnly`) a multi-tenant alias, a `tokenCache`
 * that is not one (no `read` and `write` functions: a `Map`, a raw Redis client), or a `tokenCache`
 * without `cachePartition`.
 * @internal For azcred's own packages; not covered by semver.
 */
export class TokenLifecycle {
  readonly #config: TokenLifecycleConfig
  readonly #allowedTenants: string[]
  // Both maps are made at the first request: a credential that is built but never used holds neither.
  #entries: Map<string, CacheEntry> | undefined
  /** The entries of the configured tenant without CAE for one scope, by that scope: all the fast path reads. */
  #fast: Map<unknown, CacheEntry> | undefined
  readonly #retry: Required<RetryOptions>
  readonly #jitterFraction: number
  readonly #onEvent: TokenEventListener | undefined

  constructor(config: TokenLifecycleConfig) {
    const { tenantId, onEvent } = config
    this.#config = config
    if (config.appOnly) assertAppOnlyTenant(tenantId)
    this.#allowedTenants = allowedTenants(config.additionallyAllowedTenants)
    // Every number of retryOptions, retry and refresh is checked: counts 1 (0 retries) to 100, times
    // 0 to 86 400 000 ms. The official retryOptions are mapped onto retry, which wins.
    // Credentials without retry options share DEFAULT_RETRY (frozen): less heap per credential.
    let retry: Record<string, number> | undefined
    for (const group of ['retryOptions', 'retry', 'refresh'] as const) {
      const values = config[group] ?? {}
      assertConfig(typeof values === 'object', `${group} must be an object`)
      for (const [key, value] of Object.entries(values)) {
        checkNumber(value, `${group}.${key}`, key === 'maxAttempts' ? 100 : key === 'maxRetries' ? 99 : DAY_MS, key === 'maxAttempts' ? 1 : 0)
        if (group !== 'refresh' && value !== undefined) {
          retry ??= { ...DEFAULT_RETRY }
          retry[OFFICIAL_RETRY[key] ?? key] = key === 'maxRetries' ? value + 1 : value
        }
      }
    }
    this.#retry = (retry ?? DEFAULT_RETRY) as Required<RetryOptions>
    checkNumber(config.timeoutMs, 'timeoutMs', 600_000, 1)
    assertConfig(onEvent === undefined || typeof onEvent === 'function', 'onEvent must be a function')
    // A Map or a raw Redis client is no TokenCache: refused here, not a cache-error on every call.
    const { tokenCache } = config
    assertConfig(
      !tokenCache || (typeof tokenCache.read === 'function' && typeof tokenCache.write === 'function'),
      'tokenCache must be a TokenCache (read, write, remove, scrub)',
    )
    // Without a partition, two apps sharing the cache would share entries.
    assertConfig(!tokenCache || typeof config.cachePartition === 'function', `${config.credentialName} does not support tokenCache yet`)
    this.#onEvent = onEvent ?? (/^(info|verbose)$/.test(readEnv(ENV_LOG_LEVEL) as string) ? logEvent : undefined)
    this.#jitterFraction = (config.random ?? Math.random)()
  }

  /**
   * Returns a valid token for the scopes, from the cache when it can. Never throws synchronously, not
   * even for a throwing getter or Proxy. A blank `claims` string counts as none (the cache serves it).
   * @throws AzcredError AZCRED_CONFIG_INVALID for bad scopes or options (`claims` not a string, a
   * getter that throws) or a tenant that is not allowed,
   * AZCRED_ABORTED when the caller's signal fires, AZCRED_TIMEOUT after `requestOptions.timeout`, or
   * the flow's last error.
   */
  getToken(scopes: string | readonly string[], options?: GetTokenOptions): Promise<AccessToken> {
    // A throwing getter or Proxy falls through to the slow path, which rejects.
    try {
      if (
        options == null ||
        (options.tenantId === undefined && options.claims === undefined && options.enableCae !== true && options.requestOptions === undefined)
      ) {
        const entry = this.#fast?.get(typeof scopes === 'string' ? scopes : Array.isArray(scopes) && scopes.length === 1 ? scopes[0] : undefined)
        if (entry?.settled !== undefined && Date.now() < entry.refreshAt) return entry.settled
      }
    } catch {}
    return this.#getTokenSlowly(scopes, options ?? {})
  }

  /**
   * Forgets every token held in memory (in-flight requests finish but are not stored). A `tokenCache`
   * is left as it is: call its `scrub()` to empty it.
   */
  clear(): void {
    this.#entries?.clear()
    this.#fast?.clear()
  }

  #getTokenSlowly(scopes: unknown, options: GetTokenOptions): Promise<AccessToken> {
    try {
      const { abortSignal: signal } = options
      let { claims } = options
      // A blank claims string is no claims challenge.
      assertConfig(claims == null || typeof claims === 'string', 'getToken options.claims must be a string')
      claims = claims?.trim() ? claims : undefined
      const scopeList = normalizeScopes(scopes)
      const tenantId = resolveTenant(this.#config.tenantId, options.tenantId, this.#allowedTenants)
      if (this.#config.appOnly) assertAppOnlyTenant(tenantId, 'getToken options.tenantId')
      const timeoutMs = checkNumber(options.requestOptions?.timeout, 'requestOptions.timeout', 600_000, 1)
      const enableCae = options.enableCae === true
      const request: TokenRequest = { scopes: scopeList, tenantId, claims, enableCae, background: false }
      // Scopes hold no whitespace and tenant ids no line break, so two calls share a key only when
      // they ask for the same scopes, tenant and CAE state.
      const key = `${[...scopeList].sort().join(' ')}\n${tenantId.toLowerCase()}\n${enableCae}`
      this.#entries ??= new Map()
      const entries = this.#entries
      let entry = entries.get(key) as CacheEntry
      if (entry === undefined) {
        entry = { settled: undefined, refreshAt: 0, validUntil: 0, nextAttemptAt: 0, flights: new Map(), blocked: { until: 0 } }
        entries.set(key, entry)
        if (tenantId === this.#config.tenantId && !enableCae && scopeList.length === 1) {
          this.#fast ??= new Map()
          this.#fast.set(scopeList[0], entry)
        }
      }
      const now = Date.now()
      let flight = entry.flights.get(claims)
      if (claims === undefined && entry.settled !== undefined && now < entry.validUntil) {
        if (now >= entry.refreshAt && flight === undefined && now >= entry.nextAttemptAt && now >= entry.blocked.until && !signal?.aborted) {
          // The caller that started a background refresh holds it until its signal fires.
          this.#join(this.#start(entry, request, true), signal).catch(ignore)
        }
        return entry.settled
      }
      if (signal?.aborted) throw abortedError()
      if (flight === undefined || flight.controller.signal.aborted) flight = this.#start(entry, request, false)
      else flight.joined = true
      return this.#join(flight, signal, timeoutMs)
    } catch (error) {
      // A getter or Proxy that threw: its own error could quote anything, so it is not passed on.
      return Promise.reject(
        AzcredError.isInstance(error)
          ? error
          : new AzcredError('AZCRED_CONFIG_INVALID', 'getToken: reading the scopes or options threw: pass strings and a plain object'),
      )
    }
  }

  /**
   * Starts one shared request with its own AbortController; a token it gets is stored in `entry`.
   * Its rejection is handled here too: every waiter may have aborted.
   */
  #start(entry: CacheEntry, request: TokenRequest, refresh: boolean): Flight {
    const controller = new AbortController()
    const started = Date.now()
    const { flights } = entry
    const key = request.claims
    request.abortSignal = controller.signal
    request.background = refresh
    const flight: Flight = {
      controller,
      waiters: 0,
      promise: this.#fetchWithRetry(entry, request, refresh)
        .catch((error: unknown) => {
          if (refresh) {
            const { status, aadstsCode } = error as Partial<TokenRequestError>
            // Only an azcred error's code: another error's `code` could hold anything.
            const code = AzcredError.isInstance(error) ? error.code : 'UNKNOWN'
            // An aborted refresh (its holder went away) may run again at the next call.
            if (code !== 'AZCRED_ABORTED') entry.nextAttemptAt = Date.now() + (this.#config.refresh?.retryIntervalMs ?? 30_000)
            this.#emit('refresh-failed', request, {
              code,
              status,
              aadstsCode,
              nextAttemptAt: entry.nextAttemptAt,
              validUntil: entry.validUntil,
            })
            // A caller who joined after the token expired gets a request of its own kind (retries, a
            // user's prompt), never a failure only a background refresh has (one attempt, silent only).
            if (flight.joined && !controller.signal.aborted) {
              refresh = request.background = false
              return this.#fetchWithRetry(entry, request, false)
            }
          }
          throw error
        })
        .then(({ token, attempts, cached }) => {
          const now = Date.now()
          const { refresh: options } = this.#config
          const expires = token.expiresOnTimestamp
          const validUntil = expires - this.#skew
          const half = Math.max(0, expires - now) / 2
          // Entra's refresh_in, else a margin plus this credential's jitter, at most half the lifetime.
          const refreshAt = Math.min(
            token.refreshAfterTimestamp ??
              expires - Math.min((options?.marginMs ?? 300_000) + this.#jitterFraction * Math.min(options?.maxJitterMs ?? 600_000, half), half),
            validUntil,
          )
          const stored: AccessToken = {
            token: token.token,
            expiresOnTimestamp: expires,
            refreshAfterTimestamp: refreshAt,
            tokenType: token.tokenType ?? 'Bearer',
          }
          entry.settled = Promise.resolve(stored)
          entry.refreshAt = refreshAt
          entry.validUntil = validUntil
          entry.nextAttemptAt = 0
          this.#emit(cached ? 'cache-hit' : refresh ? 'refreshed' : 'acquired', request, {
            durationMs: now - started,
            attempts,
            expiresOnTimestamp: expires,
            refreshAtTimestamp: refreshAt,
          })
          return stored
        }),
    }
    flights.set(key, flight)
    const done = (): void => {
      if (flights.get(key) === flight) flights.delete(key)
    }
    flight.promise.then(done, done)
    return flight
  }

  /** Waits for a shared request as one of its waiters; when the last one aborts or times out, the request is aborted. */
  #join(flight: Flight, signal: AbortSignalLike | undefined, timeoutMs?: number): Promise<AccessToken> {
    flight.waiters += 1
    if (signal === undefined && timeoutMs === undefined) return flight.promise
    return new Promise((resolve, reject) => {
      const end = (error?: AzcredError): void => {
        clearTimeout(timer)
        signal?.removeEventListener?.('abort', onAbort)
        if (error) {
          reject(error)
          if (--flight.waiters === 0) flight.controller.abort()
        }
      }
      const onAbort = (): void => end(abortedError())
      const timer = timeoutMs && setTimeout(end, timeoutMs, new AzcredError('AZCRED_TIMEOUT', `getToken exceeded requestOptions.timeout (${timeoutMs} ms)`))
      signal?.addEventListener?.('abort', onAbort)
      flight.promise.then(resolve, reject).finally(end)
    })
  }

  get #skew(): number {
    return this.#config.refresh?.clockSkewMs ?? 30_000
  }

  /**
   * This request's `tokenCache` partition, taken once as its flight starts (so a partition that changes
   * meanwhile, another account signing in, cannot redirect the token); undefined, with a `cache-error`
   * event, when `cachePartition` throws.
   */
  #cachePartition(request: TokenRequest): TokenCachePartition | undefined {
    try {
      const partition = (this.#config.cachePartition as () => { authority: string; clientId: string; account: string })()
      return { ...partition, kind: 'access_token', tenantId: request.tenantId, scopes: request.scopes.join(' '), cae: request.enableCae }
    } catch {
      this.#emit('cache-error', request, { operation: 'read', reason: 'failed' })
    }
  }

  /**
   * Reads the access token of `partition`'s `tokenCache` entry (one written under another key is
   * refused), or writes `token` (with `response`'s refresh token and account, and the key) to it, within TOKEN_CACHE_TIMEOUT_MS (or the cache's timeoutMs). A partition whose account was not known when the
   * request started (`''`: a user signing in during it) is written under the account the response names.
   * Never rejects: a failure or timeout is a `cache-error` event and undefined.
   */
  async #cache(request: TokenRequest, partition: TokenCachePartition, token?: AccessToken, response?: TokenResponse): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const tokenCache = this.#config.tokenCache as TokenCache
    try {
      const key = tokenCacheKey({ ...partition, account: partition.account || response?.homeAccountId || '' })
      return await Promise.race([
        token
          ? tokenCache.write(
              key,
              serializeTokenCacheEntry({ key, accessToken: token, refreshToken: response?.refreshToken, account: response?.homeAccountId }),
              token.expiresOnTimestamp,
            )
          : tokenCache.read(key).then((value) => parseTokenCacheEntry(value, Date.now(), key)?.accessToken),
        new Promise<never>((_, reject) => {
          // The cache's own wait when it asks for 1 to 30 000 ms (NaN and undefined fail both comparisons), else the default.
          const limit = tokenCache.timeoutMs as number
          timer = setTimeout(reject, limit >= 1 && limit <= 30_000 ? limit : TOKEN_CACHE_TIMEOUT_MS, TIMED_OUT)
        }),
      ])
    } catch (error) {
      this.#emit('cache-error', request, { operation: token ? 'write' : 'read', reason: error === TIMED_OUT ? 'timeout' : 'failed' })
    } finally {
      clearTimeout(timer)
    }
  }

  async #fetchWithRetry(entry: CacheEntry, request: TokenRequest, refresh: boolean): Promise<{ token: AccessToken; attempts: number; cached?: boolean }> {
    const retry = this.#retry
    const maxAttempts = refresh ? 1 : retry.maxAttempts
    const signal = request.abortSignal as AbortSignal
    const started = Date.now()
    const skew = this.#skew
    const partition = this.#config.tokenCache && this.#cachePartition(request)
    if (partition && request.claims === undefined) {
      // A valid token that is newer than the one held (another credential or process got it) needs no request.
      const found = (await this.#cache(request, partition)) as AccessToken | undefined
      // `+ 1`: the token this lifecycle holds, read back, is not newer (its times may differ by rounding).
      if (found && found.expiresOnTimestamp > Math.max(Date.now(), entry.validUntil + 1) + skew) return { token: found, attempts: 0, cached: true }
    }
    for (let attempt = 1; ; attempt += 1) {
      const { blocked } = entry
      const wait = blocked.until - Date.now()
      if (wait > 0) {
        if (!blocked.waits || maxAttempts === 1 || Date.now() + wait - started > retry.maxElapsedMs) throw blocked.error
        await sleep(wait, signal)
      }
      try {
        const response = await this.#config.fetchToken(request)
        const token = (response as TokenResponse).accessToken ?? (response as AccessToken)
        // `!(x > skew)` also refuses a missing or NaN expiry.
        if (!(token.expiresOnTimestamp - Date.now() > skew)) {
          throw new AzcredError('AZCRED_RESPONSE_INVALID', 'the token expires within refresh.clockSkewMs: check its source or lower clockSkewMs')
        }
        entry.blocked.until = 0
        // Awaited (bounded by TOKEN_CACHE_TIMEOUT_MS, never rejects): a process that exits right after
        // getToken must find its token in a persistent cache next time.
        if (partition) await this.#cache(request, partition, token, response as TokenResponse)
        return { token, attempts: attempt }
      } catch (error) {
        const { code, status, retryAfterMs: asked } = error as Partial<TokenRequestError>
        const retryAfterMs = asked && Math.min(asked, MAX_THROTTLE_MS)
        if (status === 429 && retryAfterMs) {
          const until = Date.now() + retryAfterMs
          entry.blocked = { until, error, waits: true }
          this.#emit('throttled', request, { retryAfterMs, until })
        }
        if (!(this.#config.isRetryable ?? isTransient)(error)) throw error
        const delayMs = backoffDelay(attempt, retry, this.#config.random ?? Math.random, retryAfterMs)
        if (attempt >= maxAttempts || Date.now() + delayMs - started > retry.maxElapsedMs) {
          // Retrying ran out: for a while new callers get this error at once instead of another round.
          // A Retry-After of 0 or a past date leaves the FAIL_FAST_MS floor.
          if (!refresh) entry.blocked = { until: Date.now() + (retryAfterMs || FAIL_FAST_MS), error }
          throw error
        }
        // Retried errors are azcred errors (isTransient), so `code` is one of theirs.
        this.#emit('retry-scheduled', request, { attempt, delayMs, code, status })
        await sleep(delayMs, signal)
      }
    }
  }

  #emit(type: TokenEvent['type'], request: TokenRequest, details: Record<string, unknown>): void {
    // The event is built only when there is a listener (an optional call skips its argument); the
    // listener is called as a plain function, never with the lifecycle as `this`.
    const listener = this.#onEvent
    try {
      listener?.({
        type,
        credential: this.#config.credentialName,
        scopes: request.scopes,
        tenantId: request.tenantId,
        at: Date.now(),
        ...details,
      } as TokenEvent)
    } catch {
      // A listener's failure must never fail a token request.
    }
  }
}
