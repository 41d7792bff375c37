import type { AccessToken } from './token-credential'
import { MAX_ACCESS_TOKEN_LENGTH, MAX_TOKEN_LIFETIME_MS, toAccessToken } from './token-response'
import { assertConfig } from './validate'

/**
 * What one cache entry is for. Every field is part of the key ({@link tokenCacheKey}), so no input can
 * address another tenant's, client's, account's or user's entry.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface TokenCachePartition {
  /** An access token (for `scopes`), a refresh token, or an account record. */
  kind: 'access_token' | 'refresh_token' | 'account'
  /** The normalised authority host, such as `https://login.microsoftonline.com` (compared without case). */
  authority: string
  /** The app's client id; for managed identity its identity id; `''` when the flow has none. */
  clientId: string
  /**
   * Whose token: a user's `homeAccountId`; `obo:<base64url SHA-256 of the user assertion>` on behalf of a
   * user (never the assertion itself); `''` for an app-only token.
   */
  account: string
  /** The tenant the token was issued by (compared without case). */
  tenantId: string
  /** The scopes, space-separated (sorted by {@link tokenCacheKey}); `''` for a refresh-token or account entry. */
  scopes: string
  /** Continuous Access Evaluation (`cp1`) was asked for. */
  cae: boolean
}

/**
 * The key of a partition: a JSON array of its fields in a fixed order (kind, authority, clientId,
 * account, tenantId, scopes, cae), the authority and tenant lower-cased and the scopes sorted. JSON
 * quotes every string and escapes its quotes and backslashes, so two partitions share a key only when
 * every field is equal, whatever characters a field holds. It holds no secret.
 * @example tokenCacheKey({ kind: 'access_token', authority, clientId, account: '', tenantId, scopes: 'https://vault.azure.net/.default', cae: false })
 * @internal For azcred's own packages; not covered by semver.
 */
export function tokenCacheKey(partition: TokenCachePartition): string {
  const { kind, authority, clientId, account, tenantId, scopes, cae } = partition
  return JSON.stringify([kind, authority.toLowerCase(), clientId, account, tenantId.toLowerCase(), scopes.split(' ').sort().join(' '), cae])
}

/**
 * Where tokens are kept between credentials, processes or machines: an in-memory map
 * ({@link MemoryTokenCache}), a file, Redis. Keys come from {@link tokenCacheKey}, values from
 * {@link serializeTokenCacheEntry}; both are strings, and the values hold secrets. A cache that throws,
 * rejects or is slow never fails a token request: the lifecycle goes on without it and emits
 * `cache-error`.
 * @public
 */
export interface TokenCache {
  /** The value stored under `key`, or undefined. */
  read(key: string): Promise<string | undefined>
  /** Stores `value` under `key`; it may be dropped after `expiresOnTimestamp` (ms since the epoch). */
  write(key: string, value: string, expiresOnTimestamp: number): Promise<void>
  /** Removes the entry under `key`, if any. */
  remove(key: string): Promise<void>
  /** Removes every secret this cache holds (tokens, refresh tokens), everywhere it keeps them. */
  scrub(): Promise<void>
  /**
   * How long the lifecycle waits for one `read` or `write` of this cache, in milliseconds (1 to 30 000);
   * absent or out of range: `TOKEN_CACHE_TIMEOUT_MS` (2 s). A shared cache that coordinates processes (one
   * fetches, the others wait for its token) asks for longer than the fetch it waits for.
   */
  readonly timeoutMs?: number
}

/**
 * What one cache value holds: an access token, a refresh token, or both, and the account they belong to.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface TokenCacheEntry {
  /** The access token (its `token`, `expiresOnTimestamp`, optional `refreshAfterTimestamp`). Secret. */
  accessToken?: AccessToken
  /** The refresh token that came with it, so a user's flow can redeem it later. Secret. */
  refreshToken?: string
  /** The account's `homeAccountId`. */
  account?: string
  /**
   * The {@link tokenCacheKey} it was written under (the lifecycle writes it): a reader that knows its key
   * refuses an entry written under another, so a cache that answers with another partition's value
   * (a key mix-up, a hash collision) serves nothing. Not a secret.
   */
  key?: string
}

/**
 * Longest serialised value {@link parseTokenCacheEntry} reads, in characters (256 KB).
 * @public
 */
export const MAX_TOKEN_CACHE_VALUE_LENGTH = 262_144

// A token: printable ASCII without spaces, 1 to MAX_ACCESS_TOKEN_LENGTH characters (as toAccessToken checks).
const isToken = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_ACCESS_TOKEN_LENGTH && /^[!-~]+$/.test(value)

/**
 * The value of a cache entry: `{"version":1,"accessToken":{"token","expiresOnTimestamp","refreshAfterTimestamp"?},
 * "refreshToken"?,"account"?}`. The string holds secrets: store it as such.
 * @internal For azcred's own packages; not covered by semver.
 */
export function serializeTokenCacheEntry(entry: TokenCacheEntry): string {
  const { accessToken, refreshToken, account, key } = entry
  return JSON.stringify({ version: 1, key, accessToken, refreshToken, account })
}

/**
 * Reads a value written by {@link serializeTokenCacheEntry}, or returns undefined for anything else: not a
 * string, over {@link MAX_TOKEN_CACHE_VALUE_LENGTH}, not JSON, another `version`, a refresh token that is
 * not printable ASCII (at most `MAX_ACCESS_TOKEN_LENGTH`), an account that is not (a `homeAccountId` has
 * that form too), a field that is null. Never throws. The access token passes the token endpoint's rules
 * (`toAccessToken`: printable ASCII, expiry a number) and must expire 60 s (`MIN_TOKEN_LIFETIME_MS`) to
 * 24 h (`MAX_TOKEN_LIFETIME_MS`) after `now`; a `refreshAfterTimestamp` not in that lifetime is dropped.
 * An access token that fails is left out (the refresh token stays usable); an entry left with neither
 * token is undefined. Given `key`, an entry written under another key (its `key` field) is undefined.
 * @param now epoch milliseconds; default `Date.now()`.
 * @param key the {@link tokenCacheKey} the value was read from.
 * @internal For azcred's own packages; not covered by semver.
 */
export function parseTokenCacheEntry(value: unknown, now: number = Date.now(), key?: string): TokenCacheEntry | undefined {
  try {
    const entry: TokenCacheEntry = JSON.parse(typeof value === 'string' && value.length <= MAX_TOKEN_CACHE_VALUE_LENGTH ? value : '')
    const { accessToken, refreshToken, account } = entry
    if (
      (entry as { version?: unknown }).version === 1 &&
      (key === undefined || (entry.key ?? key) === key) &&
      (refreshToken === undefined || isToken(refreshToken)) &&
      (account === undefined || isToken(account))
    ) {
      // Rebuilt, so that no other field of the stored JSON comes along.
      const parsed: TokenCacheEntry = { refreshToken, account }
      try {
        const { token, expiresOnTimestamp: expires, refreshAfterTimestamp: refreshAfter } = accessToken as AccessToken
        // Over 24 h is refused (toAccessToken would cap it); toAccessToken checks the rest. An absent
        // refreshAfterTimestamp gives NaN, which it ignores.
        if (typeof expires === 'number' && expires <= now + MAX_TOKEN_LIFETIME_MS) {
          parsed.accessToken = toAccessToken(
            { access_token: token, expires_in: (expires - now) / 1000, refresh_in: ((refreshAfter as number) - now) / 1000 },
            'tokenCache',
            now,
          )
        }
      } catch {}
      if (parsed.accessToken || refreshToken) return parsed
    }
  } catch {}
}

/**
 * Options of {@link MemoryTokenCache}.
 * @public
 */
export interface MemoryTokenCacheOptions {
  /** Most entries kept, 1 to 10 000 000; at the limit, expired entries go first (swept at most once a minute), then the oldest written. Default 10 000. */
  maxEntries?: number
}

/**
 * The in-memory {@link TokenCache}: a bounded map, shared by every credential given it (so a second
 * credential of the same app, tenant and account makes no request). Entries are dropped after their
 * expiry; at `maxEntries`, a write first drops the expired entries (looked for at most once a minute),
 * else the oldest written, so a write costs O(1) but for that sweep. Its values live in a private
 * field: `util.inspect` and `JSON.stringify` show no token.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a `maxEntries` out of range.
 * @example
 * const tokenCache = new MemoryTokenCache()
 * const first = new ClientSecretCredential(tenantId, clientId, secret, { tokenCache })
 * const second = new ClientSecretCredential(tenantId, clientId, secret, { tokenCache }) // reuses first's tokens
 * @public
 */
export class MemoryTokenCache implements TokenCache {
  readonly #entries = new Map<string, { value: string; expires: number }>()
  readonly #maxEntries: number
  /** When a full cache may next look for expired entries (a scan of every entry, so at most once a minute). */
  #nextSweep = 0

  constructor(options: MemoryTokenCacheOptions = {}) {
    const { maxEntries = 10_000 } = options ?? {}
    assertConfig(Number.isSafeInteger(maxEntries) && maxEntries >= 1 && maxEntries <= 1e7, 'maxEntries must be a whole number from 1 to 10000000')
    this.#maxEntries = maxEntries
  }

  /** How many entries are held (expired ones included until they are read or evicted). */
  get size(): number {
    return this.#entries.size
  }

  async read(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key)
    if (entry !== undefined && entry.expires <= Date.now()) this.#entries.delete(key)
    else return entry?.value
  }

  async write(key: string, value: string, expiresOnTimestamp: number): Promise<void> {
    const entries = this.#entries
    // Rewriting a key makes it the newest.
    entries.delete(key)
    if (entries.size >= this.#maxEntries) {
      const now = Date.now()
      if (now >= this.#nextSweep) {
        this.#nextSweep = now + 60_000
        for (const [oldKey, entry] of entries) if (entry.expires <= now) entries.delete(oldKey)
      }
      // Still full: the oldest written goes (a Map iterates in insertion order). One entry per write.
      if (entries.size >= this.#maxEntries) entries.delete(entries.keys().next().value as string)
    }
    entries.set(key, { value, expires: Number.isNaN(expiresOnTimestamp) ? 0 : expiresOnTimestamp })
  }

  async remove(key: string): Promise<void> {
    this.#entries.delete(key)
  }

  async scrub(): Promise<void> {
    this.#entries.clear()
  }

  /** What `JSON.stringify` shows: the size, never a key or token. */
  toJSON(): { size: number } {
    return { size: this.size }
  }
}
