import { AzcredError, MAX_TOKEN_CACHE_VALUE_LENGTH, MIN_TOKEN_LIFETIME_MS, TOKEN_CACHE_TIMEOUT_MS, type TokenCache } from '@azcred/core'
import { type DerivedKey, deriveKeys, entryName, lockOwner, open, seal } from './redis-token-cache-crypto'

/**
 * The commands this cache sends, as a connected `redis` (node-redis 5 or 6) client or cluster has them:
 * `createClient(...)` / `createCluster(...)` after `await client.connect()`. TLS, authentication,
 * Sentinel and Cluster are configured on it by you.
 */
export interface RedisClientLike {
  get(key: string): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  del(keys: string | string[]): Promise<unknown>
  scan?(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: unknown; keys: unknown }>
  /** node-redis: false while disconnected; the cache then goes without Redis at once. */
  readonly isReady?: boolean
  /** node-redis cluster: its master nodes, each scanned by {@link RedisTokenCache.scrub}. */
  readonly masters?: readonly unknown[]
  nodeClient?(node: unknown): unknown
  on?(event: 'error', listener: (error: unknown) => void): unknown
}

/** What the cache did, for logs and metrics. Events hold no token, key, name or Redis error message. */
export type RedisTokenCacheEvent =
  /** Redis did not answer in time, failed, or is disconnected: the process goes on with its own in-memory path. */
  | {
      type: 'redis-unavailable'
      at: number
      operation: 'read' | 'write' | 'remove' | 'scrub'
      /** `not-ready`: the client is disconnected; `paused`: a recent failure, Redis is skipped for `pauseAfterFailureMs`. */
      reason: 'timeout' | 'failed' | 'not-ready' | 'paused'
      /** The error's code when it is one word such as `ECONNREFUSED` (never its message). */
      errorCode?: string
    }
  /** The client emitted `error` (a lost connection, a failed reconnect); handled, so it cannot crash the process. */
  | { type: 'redis-client-error'; at: number; errorCode?: string }
  /** A stored value that no key of the ring opens (another key, garbage): treated as a miss. */
  | { type: 'value-unreadable'; at: number }
  /** This process took the partition's lock: its credential fetches the token for the fleet. */
  | { type: 'lock-acquired'; at: number; waitedMs: number }
  /** Another process held the lock; its token arrived after `waitedMs`. */
  | { type: 'lock-waited'; at: number; waitedMs: number }
  /** Another process held the lock past `lockWaitMs`: this process fetches for itself. */
  | { type: 'lock-wait-timeout'; at: number; waitedMs: number }
  /** `scrub()` deleted `deleted` entries and locks. */
  | { type: 'scrubbed'; at: number; deleted: number }

/** Options of {@link createRedisTokenCache}. */
export interface RedisTokenCacheOptions {
  /** A connected node-redis client or cluster (`redis` 5 or 6). It stays yours: the cache never closes it. */
  client: RedisClientLike
  /**
   * 32 random bytes (AES-256), or a key ring: an array of them, newest first. The first encrypts and
   * names entries; the others still open entries written under them (rotation without a cold fleet).
   * Generate one with `openssl rand -base64 32`; keep it as secret as the client secret.
   */
  encryptionKey: Uint8Array | readonly Uint8Array[]
  /** Prefix of every Redis key this cache writes, 1 to 128 printable characters without `{`, `}` or spaces. Default `azcred:tc:`. */
  keyPrefix?: string
  /**
   * Lifetime of the partition's lock, in ms (50 to 60 000). The process that took it renews it every
   * third of this while it is alive, until its credential writes the token (at most `timeoutMs` +
   * `lockTtlMs`: a fetch that failed writes nothing); a crashed fetcher's lock expires this long after its last renewal, then
   * another process takes over. Default 2 000.
   */
  lockTtlMs?: number
  /**
   * Longest wait for another process's token, in ms (0 to 29 000); then this process fetches for itself.
   * The cache asks the credential's lifecycle for this much time through {@link RedisTokenCache.timeoutMs}
   * (`TokenCache.timeoutMs`, honoured by `@azcred/core` from this release; an older core gives every cache
   * 2 s). Default 5 000: longer than a token request normally takes, so a fleet makes one.
   */
  lockWaitMs?: number
  /** Longest wait for one Redis command, in ms (10 to 1 800). Default 500. */
  commandTimeoutMs?: number
  /** After a failed or timed-out command, Redis is skipped for this long, in ms (0 to 600 000). Default 5 000. */
  pauseAfterFailureMs?: number
  /** Receives {@link RedisTokenCacheEvent}s. A listener that throws is ignored. */
  onEvent?: (event: RedisTokenCacheEvent) => void
}

/** A {@link TokenCache} in Redis. */
export interface RedisTokenCache extends TokenCache {
  /** The key prefix in use (for your own SCANs or ACL rules). */
  readonly keyPrefix: string
  /**
   * Longest time one `read` or `write` takes, in ms: `lockWaitMs` + `commandTimeoutMs` + 200, at least
   * core's `TOKEN_CACHE_TIMEOUT_MS` (2 s), at most 30 s. The credential's engine waits this long for it.
   */
  readonly timeoutMs: number
}

// Returns the value when there is one other than ARGV[3] (the value the caller refused), else takes the
// lock (SET NX PX) and returns 1, else 0. KEYS[1] the entry, KEYS[2] its lock (same hash slot).
const GET_OR_LOCK = `local value = redis.call('GET', KEYS[1])
if value and value ~= ARGV[3] then return value end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`

// Stores the entry (an access token only when it outlives the stored one: a slower process never
// replaces a newer token with an older one), then releases the lock if ARGV[3] still owns it.
const WRITE_AND_RELEASE = `if ARGV[4] ~= '1' or redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1`

// Extends the lock while its owner (ARGV[1]) still holds it: a live but slow fetcher keeps it, a crashed one does not.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`

const MAX_VALUE_LENGTH = Math.ceil((MAX_TOKEN_CACHE_VALUE_LENGTH * 3 * 4) / 3) + 64
const MAX_TTL_MS = 400 * 86_400_000
const MAX_REMEMBERED = 10_000
const SCRUB_BATCH = 500
const SCRUB_MAX_ROUNDS = 100_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const errorCodeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : undefined
}

function checkNumber(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', `${name} must be a number of milliseconds from ${min} to ${max}`)
  }
  return value
}

class RedisTokenCacheImpl implements RedisTokenCache {
  readonly keyPrefix: string
  readonly timeoutMs: number
  readonly #client: RedisClientLike
  readonly #keys: DerivedKey[]
  readonly #lockTtlMs: number
  readonly #lockWaitMs: number
  readonly #commandTimeoutMs: number
  readonly #pauseMs: number
  readonly #onEvent: ((event: RedisTokenCacheEvent) => void) | undefined
  // Partition key → its Redis names under each key of the ring (HMAC computed once).
  readonly #names = new Map<string, string[]>()
  // Partition key → the lock this process holds for it (released by the next write): owner value, renewal timer.
  readonly #owned = new Map<string, { owner: string; timer: ReturnType<typeof setInterval> }>()
  // Partition key → the newest access token this process read or wrote: its expiry, and when it was first
  // seen here. The engine refreshes once at most half of the time left at that moment remains, so a stored
  // token no newer than it, read in that second half, is the one this process is refreshing: a miss.
  readonly #seen = new Map<string, { expires: number; at: number }>()
  #pausedUntil = 0

  constructor(options: RedisTokenCacheOptions) {
    if (options === null || typeof options !== 'object') throw new AzcredError('AZCRED_CONFIG_INVALID', 'createRedisTokenCache needs an options object')
    const { client, keyPrefix = 'azcred:tc:' } = options
    if (
      client === null ||
      typeof client !== 'object' ||
      typeof client.get !== 'function' ||
      typeof client.eval !== 'function' ||
      typeof client.del !== 'function'
    ) {
      throw new AzcredError(
        'AZCRED_CONFIG_INVALID',
        'client must be a connected node-redis client or cluster (createClient() from the redis package, after connect())',
      )
    }
    if (typeof keyPrefix !== 'string' || !/^[!-z|~]{1,128}$/.test(keyPrefix)) {
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'keyPrefix must be 1 to 128 printable characters without spaces, { or }')
    }
    this.#keys = deriveKeys(options.encryptionKey)
    this.#client = client
    this.keyPrefix = keyPrefix
    this.#lockTtlMs = Math.round(checkNumber(options.lockTtlMs, 'lockTtlMs', 2_000, 50, 60_000))
    this.#lockWaitMs = checkNumber(options.lockWaitMs, 'lockWaitMs', 5_000, 0, 29_000)
    this.#commandTimeoutMs = checkNumber(options.commandTimeoutMs, 'commandTimeoutMs', 500, 10, 5_000)
    this.timeoutMs = Math.min(30_000, Math.max(TOKEN_CACHE_TIMEOUT_MS, Math.ceil(this.#lockWaitMs + this.#commandTimeoutMs + 200)))
    this.#pauseMs = checkNumber(options.pauseAfterFailureMs, 'pauseAfterFailureMs', 5_000, 0, 600_000)
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new AzcredError('AZCRED_CONFIG_INVALID', 'onEvent must be a function')
    this.#onEvent = options.onEvent
    // An 'error' event with no listener would crash the process; handled, it only says so.
    client.on?.('error', (error: unknown) => this.#emit({ type: 'redis-client-error', at: Date.now(), errorCode: errorCodeOf(error) }))
  }

  async read(key: string): Promise<string | undefined> {
    const started = Date.now()
    // The engine gives this cache `timeoutMs`; every command here ends before that.
    const deadline = started + this.timeoutMs - 100
    const names = this.#namesOf(key)
    const isAccessToken = key.startsWith('["access_token"')
    let refused = ''
    const raw = await this.#command('read', deadline, () => this.#client.get(names[0] as string))
    if (raw !== null && raw !== undefined) {
      const found = this.#accept(key, raw, 0, isAccessToken)
      if (found !== undefined) return found
      refused = String(raw)
    } else {
      // Entries written under an older key of the ring (before a rotation) are still good.
      for (let index = 1; index < names.length; index += 1) {
        const older = await this.#command('read', deadline, () => this.#client.get(names[index] as string))
        const found = older === null || older === undefined ? undefined : this.#accept(key, older, index, isAccessToken)
        if (found !== undefined) return found
      }
    }
    if (!isAccessToken) return undefined

    // A miss (or the token this process is refreshing): one process of the fleet takes the lock and
    // fetches; the others wait for the token it writes.
    const lock = `${names[0]}:lock`
    const owner = lockOwner()
    const waitUntil = started + this.#lockWaitMs
    let delay = 10
    for (let round = 0; round < 1_000; round += 1) {
      const answer = await this.#command('read', deadline, () =>
        this.#client.eval(GET_OR_LOCK, { keys: [names[0] as string, lock], arguments: [owner, String(this.#lockTtlMs), refused] }),
      )
      if (answer === 1 || answer === '1') {
        this.#hold(key, lock, owner)
        this.#emit({ type: 'lock-acquired', at: Date.now(), waitedMs: Date.now() - started })
        return undefined
      }
      if (typeof answer === 'string') {
        const found = this.#accept(key, answer, 0, true)
        if (found !== undefined) {
          if (round > 0) this.#emit({ type: 'lock-waited', at: Date.now(), waitedMs: Date.now() - started })
          return found
        }
        refused = answer
        continue
      }
      const now = Date.now()
      if (now + delay > waitUntil) break
      // Backoff with jitter, so that a fleet's polls spread out; at most 100 ms between looks.
      await sleep(delay * (0.5 + Math.random() / 2))
      delay = Math.min(delay * 2, 100)
    }
    this.#emit({ type: 'lock-wait-timeout', at: Date.now(), waitedMs: Date.now() - started })
    return undefined
  }

  async write(key: string, value: string, expiresOnTimestamp: number): Promise<void> {
    const names = this.#namesOf(key)
    const owner = this.#release(key)
    const isAccessToken = key.startsWith('["access_token"')
    const ttl = Math.min(Math.floor(expiresOnTimestamp - Date.now()), MAX_TTL_MS)
    if (isAccessToken && ttl > 0) this.#remember(key, expiresOnTimestamp)
    // The expiry goes inside the ciphertext, before the value: a read learns it without parsing the entry.
    const sealed = ttl > 0 ? seal(this.#keys[0] as DerivedKey, `${Math.floor(expiresOnTimestamp)}|${value}`, key) : ''
    await this.#command('write', Date.now() + this.timeoutMs - 100, () =>
      ttl > 0
        ? this.#client.eval(WRITE_AND_RELEASE, {
            keys: [names[0] as string, `${names[0]}:lock`],
            arguments: [sealed, String(ttl), owner, isAccessToken ? '1' : '0'],
          })
        : this.#client.del(names[0] as string),
    )
  }

  async remove(key: string): Promise<void> {
    this.#seen.delete(key)
    this.#release(key)
    const names = this.#namesOf(key)
    await this.#command('remove', Date.now() + this.timeoutMs - 100, () => Promise.all(names.map((name) => this.#client.del(name))))
  }

  async scrub(): Promise<void> {
    this.#seen.clear()
    for (const key of [...this.#owned.keys()]) this.#release(key)
    const client = this.#client
    // A cluster is scanned node by node (SCAN sees one node's keys); a plain client is its own node.
    const nodes: RedisClientLike[] =
      Array.isArray(client.masters) && typeof client.nodeClient === 'function'
        ? await Promise.all(client.masters.map((master) => client.nodeClient?.(master) as RedisClientLike))
        : [client]
    const match = `${this.keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`
    let deleted = 0
    for (const node of nodes) {
      if (typeof node.scan !== 'function') throw new AzcredError('AZCRED_CONFIG_INVALID', 'scrub needs a client with scan() (node-redis)')
      let cursor = '0'
      let rounds = 0
      do {
        if (++rounds > SCRUB_MAX_ROUNDS) throw new AzcredError('AZCRED_TIMEOUT', `scrub stopped after ${SCRUB_MAX_ROUNDS} SCAN rounds: call it again`)
        const page = await this.#command(
          'scrub',
          Date.now() + this.#commandTimeoutMs,
          () => node.scan?.(cursor, { MATCH: match, COUNT: SCRUB_BATCH }) as Promise<unknown>,
        )
        const { cursor: next, keys } = page as { cursor: unknown; keys: unknown }
        cursor = String(next)
        // One DEL per key: keys of a cluster node may sit in different hash slots.
        const found = Array.isArray(keys) ? keys.map(String) : []
        await this.#command('scrub', Date.now() + this.#commandTimeoutMs, () => Promise.all(found.map((name) => node.del(name))))
        deleted += found.length
      } while (cursor !== '0')
    }
    this.#emit({ type: 'scrubbed', at: Date.now(), deleted })
  }

  /** What `JSON.stringify` shows: the prefix and timeout, never a key. */
  toJSON(): { keyPrefix: string; timeoutMs: number } {
    return { keyPrefix: this.keyPrefix, timeoutMs: this.timeoutMs }
  }

  /**
   * Opens a stored value (`<expiry ms>|<value>` inside the ciphertext). An access token must still have
   * MIN_TOKEN_LIFETIME_MS left, and be newer than the one this process is refreshing.
   */
  #accept(key: string, raw: unknown, keyIndex: number, isAccessToken: boolean): string | undefined {
    const plaintext = open(this.#keys[keyIndex] as DerivedKey, raw, key, MAX_VALUE_LENGTH)
    const separator = plaintext?.indexOf('|') ?? -1
    const expires = separator > 0 ? Number((plaintext as string).slice(0, separator)) : Number.NaN
    if (!Number.isSafeInteger(expires)) {
      this.#emit({ type: 'value-unreadable', at: Date.now() })
      return undefined
    }
    const value = (plaintext as string).slice(separator + 1)
    if (!isAccessToken) return value
    const now = Date.now()
    const seen = this.#seen.get(key)
    if (expires - now < MIN_TOKEN_LIFETIME_MS || (seen !== undefined && expires <= seen.expires && (expires - now) * 2 <= seen.expires - seen.at + 1_000)) {
      return undefined
    }
    this.#remember(key, expires)
    return value
  }

  /** Keeps the lock alive every third of lockTtlMs while this process fetches (at most timeoutMs + lockTtlMs). */
  #hold(key: string, lock: string, owner: string): void {
    this.#release(key)
    if (this.#owned.size >= MAX_REMEMBERED) for (const held of [...this.#owned.keys()]) this.#release(held)
    // At most until its waiters have gone to fetch for themselves (its fetch failed, or is that slow).
    const until = Date.now() + this.timeoutMs + this.#lockTtlMs
    const renew = (): void => {
      if (Date.now() > until || this.#owned.get(key)?.owner !== owner) return void this.#release(key, owner)
      this.#command('write', Date.now() + this.#commandTimeoutMs, () =>
        this.#client.eval(RENEW, { keys: [lock], arguments: [owner, String(this.#lockTtlMs)] }),
      ).then(
        (renewed) => {
          if (renewed !== 1 && renewed !== '1') this.#release(key, owner)
        },
        () => this.#release(key, owner),
      )
    }
    const timer = setInterval(renew, Math.max(10, Math.floor(this.#lockTtlMs / 3)))
    // Never keeps a process alive.
    timer.unref?.()
    this.#owned.set(key, { owner, timer })
    // At once too: the SET's answer may have reached a busy process late, with little of the TTL left.
    renew()
  }

  /** Stops renewing this process's lock of `key` (only `owner`'s, when given); returns its owner value or ''. */
  #release(key: string, owner?: string): string {
    const held = this.#owned.get(key)
    if (held === undefined || (owner !== undefined && held.owner !== owner)) return ''
    clearInterval(held.timer)
    this.#owned.delete(key)
    return held.owner
  }

  #remember(key: string, expires: number): void {
    const seen = this.#seen.get(key)
    if (seen !== undefined && seen.expires >= expires) return
    if (this.#seen.size >= MAX_REMEMBERED && seen === undefined) this.#seen.clear()
    this.#seen.set(key, { expires, at: Date.now() })
  }

  #namesOf(key: string): string[] {
    if (typeof key !== 'string') throw new AzcredError('AZCRED_CONFIG_INVALID', 'a token cache key must be a string')
    let names = this.#names.get(key)
    if (names === undefined) {
      // The hash tag {…} puts an entry and its lock in one Redis Cluster slot (the scripts touch both).
      names = this.#keys.map((derived) => `${this.keyPrefix}{${entryName(derived, key)}}`)
      if (this.#names.size >= MAX_REMEMBERED) this.#names.clear()
      this.#names.set(key, names)
    }
    return names
  }

  /** Runs one Redis command within commandTimeoutMs and `deadline`; a failure pauses Redis use and rejects without the server's words. */
  async #command<T>(operation: 'read' | 'write' | 'remove' | 'scrub', deadline: number, run: () => Promise<T>): Promise<T> {
    const fail = (reason: 'timeout' | 'failed' | 'not-ready' | 'paused', error?: unknown): AzcredError => {
      if (reason === 'timeout' || reason === 'failed') this.#pausedUntil = Date.now() + this.#pauseMs
      this.#emit({ type: 'redis-unavailable', at: Date.now(), operation, reason, errorCode: errorCodeOf(error) })
      return new AzcredError(
        reason === 'timeout' ? 'AZCRED_TIMEOUT' : 'AZCRED_NETWORK_ERROR',
        `Redis token cache: ${operation} ${reason === 'timeout' ? 'timed out' : reason === 'failed' ? 'failed' : reason === 'paused' ? `skipped after a failure in the last ${this.#pauseMs} ms` : 'skipped: the client is not connected'}; the credential goes on without it`,
      )
    }
    if (Date.now() < this.#pausedUntil) throw fail('paused')
    if (this.#client.isReady === false) throw fail('not-ready')
    const timeoutMs = Math.max(1, Math.min(this.#commandTimeoutMs, deadline - Date.now()))
    let timer: ReturnType<typeof setTimeout> | undefined
    let pending: Promise<T>
    try {
      pending = Promise.resolve(run())
    } catch (error) {
      throw fail('failed', error)
    }
    // A command that outlives its timeout may still reject later: that must not be unhandled.
    pending.catch(() => {})
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(fail('timeout')), timeoutMs)
        }),
      ])
    } catch (error) {
      throw AzcredError.isInstance(error) ? error : fail('failed', error)
    } finally {
      clearTimeout(timer)
    }
  }

  #emit(event: RedisTokenCacheEvent): void {
    try {
      this.#onEvent?.(event)
    } catch {
      // A listener's failure must never fail a token request.
    }
  }
}

/**
 * A {@link TokenCache} in Redis, shared by every process and machine that uses the same Redis, key
 * prefix and encryption key, so that a fleet makes one token request per token (and per refresh)
 * instead of one per process.
 *
 * - Values are encrypted with AES-256-GCM under `encryptionKey` (bound to their entry); entry names
 *   are an HMAC-SHA-256 of the partition, so Redis shows no token, tenant, client, account or scope.
 *   Each entry expires (Redis `PX`) with its token.
 * - Single flight across processes: on a miss (or when the stored token is the one this process is
 *   refreshing) one process takes a short lock (`SET NX PX`, a random owner value, renewed while it
 *   lives, released by a compare-and-delete script with its write) and fetches; the others wait up to
 *   `lockWaitMs` for its token. A crashed fetcher's lock expires `lockTtlMs` after its last renewal,
 *   then another process takes over.
 * - A wrong key or a garbage value is a miss (event `value-unreadable`). Redis down or slow: each
 *   command ends after `commandTimeoutMs`, Redis is skipped for `pauseAfterFailureMs`, the promise
 *   rejects (the credential's `cache-error` event) and the credential fetches for itself. The client's
 *   `error` events are handled (event `redis-client-error`).
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID for a missing client, a key that is not 32 bytes, a bad
 *   prefix or a number out of range. `read`/`write`/`remove`/`scrub` reject with AZCRED_TIMEOUT or
 *   AZCRED_NETWORK_ERROR when Redis does not answer.
 * @example
 * const redis = await createClient({ url: process.env.REDIS_URL }).on('error', () => {}).connect()
 * const tokenCache = createRedisTokenCache({ client: redis, encryptionKey: Buffer.from(process.env.TOKEN_CACHE_KEY, 'base64') })
 * const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, { tokenCache })
 */
export function createRedisTokenCache(options: RedisTokenCacheOptions): RedisTokenCache {
  return new RedisTokenCacheImpl(options)
}
