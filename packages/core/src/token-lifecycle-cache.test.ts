import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { AzcredError } from './azcred-error'
import { MemoryTokenCache, parseTokenCacheEntry, serializeTokenCacheEntry, type TokenCache, tokenCacheKey } from './token-cache'
import type { AccessToken } from './token-credential'
import type { TokenEvent } from './token-events'
import {
  LIFECYCLE_OPTION_NAMES,
  lifecycleOptions,
  TOKEN_CACHE_TIMEOUT_MS,
  TokenLifecycle,
  type TokenLifecycleConfig,
  type TokenLifecycleOptions,
  type TokenRequest,
} from './token-lifecycle'
import type { TokenResponse } from './token-response'

const SCOPE = 'https://vault.azure.net/.default'
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const AUTHORITY = 'https://login.microsoftonline.com'
const CLIENT = '11111111-2222-3333-4444-555555555555'
const MINUTE = 60_000
const PLANTED_REFRESH = 'planted-refresh-token.0.AXYZsecret'
const PLANTED_PARTITION_SECRET = 'planted-cache-error-secret'

/** A fetcher that issues `access-<n>` tokens (with a planted refresh token when `withRefreshToken`), recording requests. */
function flow(options: { lifetimeMs?: number; refreshInMs?: number; withRefreshToken?: boolean } = {}) {
  const requests: TokenRequest[] = []
  const fetchToken = async (request: TokenRequest): Promise<AccessToken | TokenResponse> => {
    requests.push({ ...request })
    await Promise.resolve()
    const now = Date.now()
    const accessToken: AccessToken = { token: `access-${requests.length}`, expiresOnTimestamp: now + (options.lifetimeMs ?? 60 * MINUTE), tokenType: 'Bearer' }
    if (options.refreshInMs !== undefined) accessToken.refreshAfterTimestamp = now + options.refreshInMs
    return options.withRefreshToken ? { accessToken, refreshToken: `${PLANTED_REFRESH}-${requests.length}`, homeAccountId: 'uid.utid' } : accessToken
  }
  return { requests, fetchToken }
}

/** A TokenCache over a Map that counts its calls; `fail` makes each call throw or hang. */
function countingCache(fail?: { read?: 'throw' | 'reject' | 'hang'; write?: 'throw' | 'reject' | 'hang' }) {
  const entries = new Map<string, string>()
  const calls = { read: 0, write: 0 }
  const act = (how: 'throw' | 'reject' | 'hang' | undefined): Promise<never> | undefined => {
    if (how === 'throw') throw new Error(`cache down: ${PLANTED_PARTITION_SECRET}`)
    if (how === 'reject') return Promise.reject(new Error(`cache down: ${PLANTED_PARTITION_SECRET}`))
    if (how === 'hang') return new Promise<never>(() => {})
  }
  const cache: TokenCache = {
    read(key) {
      calls.read += 1
      return act(fail?.read) ?? Promise.resolve(entries.get(key))
    },
    write(key, value) {
      calls.write += 1
      return (
        act(fail?.write) ??
        Promise.resolve().then(() => {
          entries.set(key, value)
        })
      )
    },
    async remove(key) {
      entries.delete(key)
    },
    async scrub() {
      entries.clear()
    },
  }
  return { cache, entries, calls }
}

function lifecycle(fetchToken: TokenLifecycleConfig['fetchToken'], overrides: Partial<TokenLifecycleConfig> = {}) {
  const events: TokenEvent[] = []
  const engine = new TokenLifecycle({
    credentialName: 'TestCredential',
    tenantId: TENANT,
    fetchToken,
    random: () => 0,
    onEvent: (event) => events.push(event),
    cachePartition: () => ({ authority: AUTHORITY, clientId: CLIENT, account: '' }),
    ...overrides,
  })
  return { engine, events }
}

const keyFor = (overrides: { clientId?: string; account?: string; tenantId?: string; cae?: boolean } = {}) =>
  tokenCacheKey({ kind: 'access_token', authority: AUTHORITY, clientId: CLIENT, account: '', tenantId: TENANT, scopes: SCOPE, cae: false, ...overrides })

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-11-22T10:00:00Z') })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('TokenLifecycle with a tokenCache', () => {
  it('reads the cache once on a cold miss, writes after the request, and a memory hit touches neither', async () => {
    const { cache, entries, calls } = countingCache()
    const source = flow({ refreshInMs: 30 * MINUTE })
    const { engine, events } = lifecycle(source.fetchToken, { tokenCache: cache })
    const token = await engine.getToken(SCOPE)
    expect(calls).toEqual({ read: 1, write: 1 })
    expect(source.requests).toHaveLength(1)
    // Written under the partition's key, as the versioned entry of what the fetcher returned.
    expect([...entries.keys()]).toEqual([keyFor()])
    const stored = parseTokenCacheEntry(entries.get(keyFor()))
    expect(stored?.accessToken?.token).toBe(token.token)
    expect(stored?.accessToken?.refreshAfterTimestamp).toBe(Date.now() + 30 * MINUTE)
    for (let index = 0; index < 1000; index += 1) await engine.getToken(SCOPE)
    expect(calls).toEqual({ read: 1, write: 1 })
    expect(events.map((event) => event.type)).toEqual(['acquired'])
  })

  it('two lifecycles sharing one MemoryTokenCache: the second makes no request', async () => {
    const tokenCache = new MemoryTokenCache()
    const first = flow()
    const second = flow()
    const one = lifecycle(first.fetchToken, { tokenCache })
    const two = lifecycle(second.fetchToken, { tokenCache })
    const token = await one.engine.getToken(SCOPE)
    const shared = await Promise.all(Array.from({ length: 100 }, () => two.engine.getToken(SCOPE)))
    expect(first.requests).toHaveLength(1)
    expect(second.requests).toHaveLength(0)
    expect(new Set(shared.map((entry) => entry.token))).toEqual(new Set([token.token]))
    expect(shared[0]?.expiresOnTimestamp).toBe(token.expiresOnTimestamp)
    expect(two.events).toEqual([expect.objectContaining({ type: 'cache-hit', attempts: 0, credential: 'TestCredential', scopes: [SCOPE], tenantId: TENANT })])
  })

  it('entries of another client, account, tenant or CAE state are never served', async () => {
    const tokenCache = new MemoryTokenCache()
    await lifecycle(flow().fetchToken, { tokenCache }).engine.getToken(SCOPE)
    const other = '99999999-2222-3333-4444-555555555555'
    for (const partition of [
      { authority: AUTHORITY, clientId: other, account: '' },
      { authority: AUTHORITY, clientId: CLIENT, account: 'uid.utid' },
      { authority: 'https://login.microsoftonline.us', clientId: CLIENT, account: '' },
    ]) {
      const source = flow()
      await lifecycle(source.fetchToken, { tokenCache, cachePartition: () => partition }).engine.getToken(SCOPE)
      expect(source.requests).toHaveLength(1)
    }
    const source = flow()
    const { engine } = lifecycle(source.fetchToken, { tokenCache, additionallyAllowedTenants: ['*'] })
    await engine.getToken(SCOPE, { tenantId: 'contoso.onmicrosoft.com' })
    await engine.getToken(SCOPE, { enableCae: true })
    expect(source.requests).toHaveLength(2)
  })

  it('a cache that answers with another partition’s value (a key mix-up, a truncated or hashed key colliding) serves nothing', async () => {
    // A store that keeps one value whatever the key (as a store whose keys are cut to a length limit would).
    let only: string | undefined
    const mixedUp: TokenCache = {
      read: async () => only,
      write: async (_key, value) => {
        only = value
      },
      remove: async () => {},
      scrub: async () => {},
    }
    const vault = flow()
    const { engine } = lifecycle(vault.fetchToken, { tokenCache: mixedUp, additionallyAllowedTenants: ['*'] })
    const first = await engine.getToken(SCOPE)
    expect(JSON.parse(only ?? '{}').key).toBe(keyFor())
    // Another scope, tenant, client or CAE state: the stored value names another key, so a request is made.
    const storage = await engine.getToken('https://storage.azure.com/.default')
    expect(storage.token).not.toBe(first.token)
    const other = flow()
    const otherClient = lifecycle(other.fetchToken, {
      tokenCache: mixedUp,
      cachePartition: () => ({ authority: AUTHORITY, clientId: '99999999-2222-3333-4444-555555555555', account: '' }),
    })
    expect((await otherClient.engine.getToken('https://storage.azure.com/.default')).token).toBe('access-1')
    expect(other.requests).toHaveLength(1)
    expect(vault.requests).toHaveLength(2)
    // An entry without a key (written by hand or by an older version) is still read by its key.
    expect(
      parseTokenCacheEntry(serializeTokenCacheEntry({ accessToken: { token: 't', expiresOnTimestamp: Date.now() + MINUTE * 10 } }), Date.now(), keyFor()),
    ).toBeDefined()
    expect(parseTokenCacheEntry(only)).toBeDefined() // without a key to compare, any well-formed entry
  })

  it('a claims challenge never reads the cache (its token is written, as it is kept in memory)', async () => {
    const { cache, calls } = countingCache()
    const source = flow()
    const { engine } = lifecycle(source.fetchToken, { tokenCache: cache })
    await engine.getToken(SCOPE, { claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' })
    expect(calls).toEqual({ read: 0, write: 1 })
    expect(source.requests).toHaveLength(1)
  })

  it('an expired, nearly expired or malformed entry is ignored: a request is made', async () => {
    for (const value of [
      serializeTokenCacheEntry({ accessToken: { token: 'old', expiresOnTimestamp: Date.now() - 1 } }),
      serializeTokenCacheEntry({ accessToken: { token: 'old', expiresOnTimestamp: Date.now() + 20_000 } }),
      '{"version":1,"accessToken":{"token":"bad token","expiresOnTimestamp":9e12}}',
      'garbage',
    ]) {
      const { cache, entries } = countingCache()
      entries.set(keyFor(), value)
      const source = flow()
      const { engine, events } = lifecycle(source.fetchToken, { tokenCache: cache })
      expect((await engine.getToken(SCOPE)).token).toBe('access-1')
      expect(source.requests).toHaveLength(1)
      expect(events.map((event) => event.type)).toEqual(['acquired'])
    }
  })

  for (const how of ['throw', 'reject'] as const) {
    it(`a cache whose read and write ${how} never fails the request (cache-error events, no secret)`, async () => {
      const { cache } = countingCache({ read: how, write: how })
      const source = flow()
      const { engine, events } = lifecycle(source.fetchToken, { tokenCache: cache })
      expect((await engine.getToken(SCOPE)).token).toBe('access-1')
      await vi.advanceTimersByTimeAsync(0)
      // The write is not awaited: its event may come after 'acquired'.
      const seen = events.map((event) => [event.type, 'operation' in event && event.operation, 'reason' in event && event.reason])
      expect(seen.sort()).toEqual([
        ['acquired', false, false],
        ['cache-error', 'read', 'failed'],
        ['cache-error', 'write', 'failed'],
      ])
      expect(JSON.stringify(events)).not.toContain(PLANTED_PARTITION_SECRET)
    })
  }

  it(`a cache that hangs is skipped after TOKEN_CACHE_TIMEOUT_MS (${TOKEN_CACHE_TIMEOUT_MS} ms), and leaves no timer behind`, async () => {
    const { cache } = countingCache({ read: 'hang', write: 'hang' })
    const source = flow()
    const { engine, events } = lifecycle(source.fetchToken, { tokenCache: cache })
    let token: AccessToken | undefined
    const pending = engine.getToken(SCOPE).then((value) => {
      token = value
    })
    await vi.advanceTimersByTimeAsync(TOKEN_CACHE_TIMEOUT_MS - 1)
    expect(source.requests).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(source.requests).toHaveLength(1)
    // The write is awaited too, so the token arrives when the write's own bound ran out.
    await vi.advanceTimersByTimeAsync(TOKEN_CACHE_TIMEOUT_MS)
    await pending
    expect(token?.token).toBe('access-1')
    expect(events.map((event) => [event.type, (event as { operation?: string }).operation])).toEqual([
      ['cache-error', 'read'],
      ['cache-error', 'write'],
      ['acquired', undefined],
    ])
    expect(events[0]).toMatchObject({ operation: 'read', reason: 'timeout' })
    expect(events[1]).toMatchObject({ operation: 'write', reason: 'timeout' })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('getToken resolves only after the cache write finished (a process that exits right after it keeps its token)', async () => {
    const written: string[] = []
    let finishWrite: () => void = () => {}
    const slowWrites = {
      read: async () => undefined,
      write: (key: string) =>
        new Promise<void>((resolve) => {
          finishWrite = () => {
            written.push(key)
            resolve()
          }
        }),
      remove: async () => {},
      scrub: async () => {},
    }
    const source = flow()
    const { engine } = lifecycle(source.fetchToken, { tokenCache: slowWrites })
    let settled = false
    const pending = engine.getToken(SCOPE).then(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(100)
    expect(source.requests).toHaveLength(1)
    expect(settled).toBe(false)
    finishWrite()
    await pending
    expect(written).toHaveLength(1)
  })

  it("a cache's timeoutMs (1 to 30 000 ms) replaces TOKEN_CACHE_TIMEOUT_MS; absent or out of range, the default holds", async () => {
    const cases: Array<[unknown, number]> = [
      [5_000, 5_000],
      [30_000, 30_000],
      [30_001, TOKEN_CACHE_TIMEOUT_MS],
      [0, TOKEN_CACHE_TIMEOUT_MS],
      [Number.NaN, TOKEN_CACHE_TIMEOUT_MS],
      [undefined, TOKEN_CACHE_TIMEOUT_MS],
    ]
    for (const [timeoutMs, waited] of cases) {
      const { cache } = countingCache({ read: 'hang', write: 'hang' })
      const source = flow()
      const { engine, events } = lifecycle(source.fetchToken, { tokenCache: Object.assign(cache, { timeoutMs }) as TokenCache })
      const pending = engine.getToken(SCOPE)
      await vi.advanceTimersByTimeAsync(waited - 1)
      expect(source.requests).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(1)
      expect(source.requests).toHaveLength(1)
      // The write is awaited with the same bound.
      await vi.advanceTimersByTimeAsync(waited - 1)
      expect(events.map((event) => event.type)).toEqual(['cache-error'])
      await vi.advanceTimersByTimeAsync(1)
      expect((await pending).token).toBe('access-1')
      expect(events.map((event) => [event.type, (event as { operation?: string }).operation, (event as { reason?: string }).reason])).toEqual([
        ['cache-error', 'read', 'timeout'],
        ['cache-error', 'write', 'timeout'],
        ['acquired', undefined, undefined],
      ])
      expect(vi.getTimerCount()).toBe(0)
    }
  })

  it('a cache slower than 2 s but within its timeoutMs is served: no request (a fleet waiting for one fetch)', async () => {
    const served = new MemoryTokenCache()
    const expires = Date.now() + 60 * MINUTE
    await served.write(
      keyFor(),
      serializeTokenCacheEntry({ key: keyFor(), accessToken: { token: 'from-another-process', expiresOnTimestamp: expires } }),
      expires,
    )
    const slow = (timeoutMs?: number): TokenCache => ({
      timeoutMs,
      read: (key) => new Promise((resolve) => setTimeout(() => resolve(served.read(key)), 2_500)),
      write: async () => {},
      remove: async () => {},
      scrub: async () => {},
    })
    const patient = flow()
    const first = lifecycle(patient.fetchToken, { tokenCache: slow(3_000) })
    const token = first.engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(2_500)
    expect((await token).token).toBe('from-another-process')
    expect(patient.requests).toHaveLength(0)
    expect(first.events.map((event) => event.type)).toEqual(['cache-hit'])
    const hasty = flow()
    const second = lifecycle(hasty.fetchToken, { tokenCache: slow() })
    const other = second.engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(2_500)
    expect((await other).token).toBe('access-1')
    expect(second.events.map((event) => event.type)).toEqual(['cache-error', 'acquired'])
  })

  it('a cachePartition that throws is a cache error, not a failed request', async () => {
    const source = flow()
    const { engine, events } = lifecycle(source.fetchToken, {
      tokenCache: new MemoryTokenCache(),
      cachePartition: () => {
        throw new Error(PLANTED_PARTITION_SECRET)
      },
    })
    expect((await engine.getToken(SCOPE)).token).toBe('access-1')
    expect(events.map((event) => event.type)).toEqual(['cache-error', 'acquired'])
    expect(JSON.stringify(events)).not.toContain(PLANTED_PARTITION_SECRET)
  })

  it('the key is taken when the request starts: a partition that changes meanwhile (another account) does not get its token', async () => {
    const { cache, entries } = countingCache()
    let account = 'a.a'
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const slow = async (): Promise<AccessToken> => {
      await gate
      return { token: 'token-for-a', expiresOnTimestamp: Date.now() + 60 * MINUTE }
    }
    const { engine } = lifecycle(slow, { tokenCache: cache, cachePartition: () => ({ authority: AUTHORITY, clientId: CLIENT, account }) })
    const pending = engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(0)
    account = 'b.b' // another user signs in while a.a's request is on its way
    release()
    await pending
    await vi.advanceTimersByTimeAsync(0)
    expect([...entries.keys()]).toEqual([keyFor({ account: 'a.a' })])
    expect(entries.has(keyFor({ account: 'b.b' }))).toBe(false)
  })

  it('a tokenCache without cachePartition is refused: two apps would share entries', () => {
    const error = (() => {
      try {
        new TokenLifecycle({ credentialName: 'SomeCredential', tenantId: TENANT, fetchToken: flow().fetchToken, tokenCache: new MemoryTokenCache() })
      } catch (caught) {
        return caught
      }
    })()
    expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
    expect((error as Error).message).toBe('SomeCredential does not support tokenCache yet')
  })

  it('a background refresh adopts a newer token another lifecycle wrote, and refreshes itself only when there is none', async () => {
    const tokenCache = new MemoryTokenCache()
    const first = flow({ refreshInMs: 30 * MINUTE })
    const second = flow({ refreshInMs: 30 * MINUTE })
    const one = lifecycle(first.fetchToken, { tokenCache })
    const two = lifecycle(second.fetchToken, { tokenCache })
    await one.engine.getToken(SCOPE)
    expect((await two.engine.getToken(SCOPE)).token).toBe('access-1')
    vi.advanceTimersByTime(31 * MINUTE)
    // One refreshes (nothing newer in the cache) and writes; the other then finds it there.
    await one.engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(0)
    expect(first.requests.map((request) => request.background)).toEqual([false, true])
    expect((await one.engine.getToken(SCOPE)).token).toBe('access-2')
    expect((await two.engine.getToken(SCOPE)).token).toBe('access-1') // still valid: served while it refreshes
    await vi.advanceTimersByTimeAsync(0)
    expect((await two.engine.getToken(SCOPE)).token).toBe('access-2')
    expect(second.requests).toHaveLength(0)
    expect(two.events.map((event) => event.type)).toEqual(['cache-hit', 'cache-hit'])
  })

  it('a background refresh that finds only its own token in the cache requests a new one (fractional expiry too)', async () => {
    const { cache, calls } = countingCache()
    const fractional = async (): Promise<AccessToken> => ({ token: `access-${calls.write + 1}`, expiresOnTimestamp: Date.now() + 60 * MINUTE + 0.123 })
    const { engine, events } = lifecycle(fractional, { tokenCache: cache })
    await engine.getToken(SCOPE)
    vi.advanceTimersByTime(56 * MINUTE) // past the refresh time (5 min margin, no jitter)
    await engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(0)
    expect((await engine.getToken(SCOPE)).token).toBe('access-2')
    expect(events.map((event) => event.type)).toEqual(['acquired', 'refreshed'])
    expect(calls).toEqual({ read: 2, write: 2 })
  })

  it('keeps the refresh token and account of a TokenResponse in the cache, never in what getToken returns or in events', async () => {
    const { cache, entries } = countingCache()
    const source = flow({ withRefreshToken: true })
    const { engine, events } = lifecycle(source.fetchToken, { tokenCache: cache })
    const token = await engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(0)
    expect(Object.keys(token).sort()).toEqual(['expiresOnTimestamp', 'refreshAfterTimestamp', 'token', 'tokenType'])
    // The account was not known when the request started (''): the entry goes under the one the response names.
    expect([...entries.keys()]).toEqual([keyFor({ account: 'uid.utid' })])
    const stored = parseTokenCacheEntry(entries.get(keyFor({ account: 'uid.utid' })))
    expect(stored).toMatchObject({ refreshToken: `${PLANTED_REFRESH}-1`, account: 'uid.utid', accessToken: { token: 'access-1' } })
    for (const shown of [JSON.stringify(events), JSON.stringify(token), inspect(engine, { depth: 10, showHidden: true }), inspect(events, { depth: 10 })]) {
      expect(shown).not.toContain(PLANTED_REFRESH)
    }
    expect(inspect(engine, { depth: 10, showHidden: true })).not.toContain('access-1')
    // A second lifecycle of that account sharing the cache is served the access token with no request.
    const other = flow()
    const sameAccount = () => ({ authority: AUTHORITY, clientId: CLIENT, account: 'uid.utid' })
    expect((await lifecycle(other.fetchToken, { tokenCache: cache, cachePartition: sameAccount }).engine.getToken(SCOPE)).token).toBe('access-1')
    expect(other.requests).toHaveLength(0)
  })
})

describe('TokenRequest.background', () => {
  it('is true only for a proactive refresh', async () => {
    const source = flow({ refreshInMs: 30 * MINUTE, lifetimeMs: 60 * MINUTE })
    const { engine } = lifecycle(source.fetchToken)
    await engine.getToken(SCOPE) // a caller's first request
    vi.advanceTimersByTime(31 * MINUTE)
    await engine.getToken(SCOPE) // starts the background refresh
    await vi.advanceTimersByTimeAsync(0)
    await engine.getToken(SCOPE, { claims: '{"access_token":{}}' }) // a caller's claims challenge
    vi.advanceTimersByTime(61 * MINUTE)
    await engine.getToken(SCOPE) // expired: the caller waits for this one
    expect(source.requests.map((request) => request.background)).toEqual([false, true, false, false])
  })
})

describe('lifecycleOptions', () => {
  it('picks exactly the lifecycle options that are set, and nothing else', () => {
    const onEvent = () => {}
    const tokenCache = new MemoryTokenCache()
    const options = {
      onEvent,
      retry: { maxAttempts: 2 },
      retryOptions: { maxRetries: 1 },
      refresh: { marginMs: 1 },
      timeoutMs: 5,
      loggingOptions: {},
      tokenCache,
      clientSecret: 'planted-client-secret',
      fetch: globalThis.fetch,
      authorityHost: AUTHORITY,
      additionallyAllowedTenants: ['*'],
    }
    expect(lifecycleOptions(options)).toEqual({
      onEvent,
      retry: { maxAttempts: 2 },
      retryOptions: { maxRetries: 1 },
      refresh: { marginMs: 1 },
      timeoutMs: 5,
      loggingOptions: {},
      tokenCache,
    })
    expect(lifecycleOptions({ timeoutMs: undefined, retry: undefined })).toEqual({})
    expect(Object.keys(lifecycleOptions({ timeoutMs: undefined }))).toEqual([])
    expect(lifecycleOptions(undefined)).toEqual({})
  })

  it('LIFECYCLE_OPTION_NAMES lists every key of TokenLifecycleOptions (a new option cannot be forgotten)', () => {
    expectTypeOf<(typeof LIFECYCLE_OPTION_NAMES)[number]>().toEqualTypeOf<keyof TokenLifecycleOptions>()
    expect(new Set(LIFECYCLE_OPTION_NAMES).size).toBe(LIFECYCLE_OPTION_NAMES.length)
  })
})
