import { assertConfig } from '@azcred/core'

/**
 * Options of {@link OnBehalfOfUserCache}.
 * @public
 */
export interface OnBehalfOfUserCacheOptions {
  /**
   * Most users kept, 1 to 1 000 000. At the limit, users whose incoming token (the user assertion)
   * has expired go first, then the least recently used. Default 10 000.
   */
  maxUsers?: number
}

/** Most token entries (scope sets, tenants) kept for one user; the oldest written goes first. */
const MAX_ENTRIES_PER_USER = 64

interface TokenEntry {
  key: string
  value: string
  expires: number
}

interface UserEntry {
  /** When the user's incoming token expires (its `exp`), ms since the epoch; Infinity when unknown. */
  assertionExpires: number
  /** Serialised token-cache values with their key and expiry, oldest first (a user has a few: an array is the smallest). */
  tokens: TokenEntry[]
  /** The refresh token the last on-behalf-of answer carried: a secret. */
  refreshToken: string | undefined
}

/**
 * What a credential reads and writes: one user's tokens. Internal to this package.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface UserStore {
  read(user: string, key: string): string | undefined
  write(user: string, assertionExpires: number, key: string, value: string, expires: number): void
  remove(user: string, key: string): void
  refreshToken(user: string): string | undefined
  setRefreshToken(user: string, assertionExpires: number, refreshToken: string | undefined): void
  clear(): void
  readonly size: number
  /** Token requests in flight, by user, tenant, scopes and CAE: concurrent requests of one user share one. */
  readonly flights: Map<string, Promise<unknown>>
}

// The store of each cache, kept out of the object itself, so util.inspect and JSON show no token.
const stores = new WeakMap<OnBehalfOfUserCache, UserStore>()

/**
 * The per-user token store every {@link OnBehalfOfCredential} of the process shares (or those given the
 * same `userCache`): a server builds one credential per request, and the next request of the same
 * user finds its tokens here without a request to Entra ID. It is bounded: at most `maxUsers` users (the
 * least recently used goes first), each user's entries dropped when their tokens expire and all of
 * them when the user's incoming token (the assertion) expires. Users are told apart by the SHA-256 of
 * their assertion (with the authority, client id and tenant in every key): the assertion itself is never
 * a key. Tokens live in a private store: `util.inspect` and `JSON.stringify` show only the user count.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a `maxUsers` out of range.
 * @example
 * const userCache = new OnBehalfOfUserCache({ maxUsers: 50_000 })
 * const credential = new OnBehalfOfCredential({ tenantId, clientId, clientSecret, userAssertionToken, userCache })
 * @public
 */
export class OnBehalfOfUserCache {
  constructor(options: OnBehalfOfUserCacheOptions = {}) {
    const { maxUsers = 10_000 } = options ?? {}
    assertConfig(Number.isSafeInteger(maxUsers) && maxUsers >= 1 && maxUsers <= 1_000_000, 'maxUsers must be a whole number from 1 to 1000000')
    stores.set(this, createStore(maxUsers))
  }

  /** How many users are held (expired ones included until they are read or evicted). */
  get size(): number {
    return storeOf(this).size
  }

  /** Forgets every user's tokens. */
  clear(): void {
    storeOf(this).clear()
  }

  /** What `JSON.stringify` shows: the user count, never a key or token. */
  toJSON(): { users: number } {
    return { users: this.size }
  }
}

/**
 * The store behind a cache.
 * @internal For azcred's own packages; not covered by semver.
 */
export function storeOf(cache: OnBehalfOfUserCache): UserStore {
  const store = stores.get(cache)
  assertConfig(store !== undefined, 'userCache must be an OnBehalfOfUserCache')
  return store
}

function createStore(maxUsers: number): UserStore {
  // Insertion order is recency: a read or write moves the user to the end, so the first is the least recently used.
  const users = new Map<string, UserEntry>()
  let nextSweep = 0

  /** The user's live entry, moved to the most recent place; undefined (and dropped) once the assertion expired. */
  const live = (user: string, now: number): UserEntry | undefined => {
    const entry = users.get(user)
    if (entry === undefined) return undefined
    users.delete(user)
    if (entry.assertionExpires <= now) return undefined
    users.set(user, entry)
    return entry
  }

  /** The user's entry, made (evicting when full) when there is none. */
  const entryFor = (user: string, assertionExpires: number, now: number): UserEntry => {
    const found = live(user, now)
    if (found !== undefined) return found
    if (users.size >= maxUsers) {
      // Expired users first (a scan of every user, so at most once a second), then the least recently used.
      if (now >= nextSweep) {
        nextSweep = now + 1_000
        for (const [key, entry] of users) if (entry.assertionExpires <= now || !hasLiveToken(entry, now)) users.delete(key)
      }
      while (users.size >= maxUsers) users.delete(users.keys().next().value as string)
    }
    const entry: UserEntry = { assertionExpires, tokens: [], refreshToken: undefined }
    users.set(user, entry)
    return entry
  }

  return {
    read(user, key) {
      const now = Date.now()
      const tokens = live(user, now)?.tokens
      const index = tokens === undefined ? -1 : tokens.findIndex((token) => token.key === key)
      if (index < 0) return undefined
      const token = (tokens as TokenEntry[])[index] as TokenEntry
      if (token.expires > now) return token.value
      tokens?.splice(index, 1)
      return undefined
    },
    write(user, assertionExpires, key, value, expires) {
      const now = Date.now()
      if (assertionExpires <= now) return
      const { tokens } = entryFor(user, assertionExpires, now)
      const index = tokens.findIndex((token) => token.key === key)
      if (index >= 0) tokens.splice(index, 1)
      else if (tokens.length >= MAX_ENTRIES_PER_USER) tokens.shift()
      tokens.push({ key, value, expires: Number.isNaN(expires) ? 0 : expires })
    },
    remove(user, key) {
      const tokens = users.get(user)?.tokens
      const index = tokens === undefined ? -1 : tokens.findIndex((token) => token.key === key)
      if (index >= 0) tokens?.splice(index, 1)
    },
    refreshToken(user) {
      return live(user, Date.now())?.refreshToken
    },
    setRefreshToken(user, assertionExpires, refreshToken) {
      const now = Date.now()
      if (refreshToken === undefined) {
        const entry = users.get(user)
        if (entry !== undefined) entry.refreshToken = undefined
      } else if (assertionExpires > now) {
        entryFor(user, assertionExpires, now).refreshToken = refreshToken
      }
    },
    clear() {
      users.clear()
    },
    get size() {
      return users.size
    },
    flights: new Map(),
  }
}

function hasLiveToken(entry: UserEntry, now: number): boolean {
  if (entry.refreshToken !== undefined) return true
  return entry.tokens.some((token) => token.expires > now)
}
