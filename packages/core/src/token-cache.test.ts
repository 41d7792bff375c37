import { inspect } from 'node:util'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  MAX_TOKEN_CACHE_VALUE_LENGTH,
  MemoryTokenCache,
  parseTokenCacheEntry,
  serializeTokenCacheEntry,
  type TokenCachePartition,
  tokenCacheKey,
} from './token-cache'

const NOW = Date.parse('2026-11-22T10:00:00Z')
const HOUR = 3_600_000
const ACCESS = 'planted-access-token.A1.eyJzZWNyZXQiOnRydWV9'
const REFRESH = 'planted-refresh-token.0.AXYZ-secret'

const partition: TokenCachePartition = {
  kind: 'access_token',
  authority: 'https://login.microsoftonline.com',
  clientId: '11111111-2222-3333-4444-555555555555',
  account: '',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  scopes: 'https://vault.azure.net/.default',
  cae: false,
}

beforeEach(() => {
  vi.useFakeTimers({ now: NOW })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('tokenCacheKey', () => {
  it('is the fields in a fixed order, with the scopes sorted and the authority and tenant lower-cased', () => {
    const key = tokenCacheKey({ ...partition, authority: 'https://LOGIN.microsoftonline.com', tenantId: 'Contoso.onmicrosoft.com', scopes: 'b a' })
    expect(JSON.parse(key)).toEqual(['access_token', 'https://login.microsoftonline.com', partition.clientId, '', 'contoso.onmicrosoft.com', 'a b', false])
    expect(tokenCacheKey({ ...partition, scopes: 'b a' })).toBe(tokenCacheKey({ ...partition, scopes: 'a b' }))
  })

  it('two partitions that differ in any field never share a key, whatever characters the fields hold', () => {
    // Separators, quotes, escapes and look-alikes of the encoding itself, in every string field.
    const tricky = [
      '',
      'a',
      'a"',
      'a\\',
      '\\"',
      '","',
      'a","b',
      '\n',
      'a\nb',
      '[',
      ']',
      '"],["',
      'a b',
      ' ',
      'null',
      'false',
      '\u0000',
      'é',
      'obo:x',
      '|',
      ':',
      '\t',
    ]
    const stringFields = ['authority', 'clientId', 'account', 'tenantId', 'scopes'] as const
    const seen = new Map<string, string>()
    let count = 0
    for (const kind of ['access_token', 'refresh_token', 'account'] as const) {
      for (const cae of [false, true]) {
        for (const field of stringFields) {
          for (const value of tricky) {
            for (const other of ['x', 'x"', '","x']) {
              const fields: TokenCachePartition = { kind, authority: other, clientId: other, account: other, tenantId: other, scopes: other, cae }
              fields[field] = value
              const key = tokenCacheKey(fields)
              // The canonical form of these fields (what the key must depend on, and only on).
              const canonical = JSON.stringify([
                kind,
                fields.authority.toLowerCase(),
                fields.clientId,
                fields.account,
                fields.tenantId.toLowerCase(),
                fields.scopes.split(' ').sort().join(' '),
                cae,
              ])
              const previous = seen.get(key)
              if (previous !== undefined) expect(previous).toBe(canonical)
              seen.set(key, canonical)
              count += 1
            }
          }
        }
      }
    }
    expect(count).toBe(3 * 2 * 5 * tricky.length * 3)
    // Every distinct canonical partition got its own key.
    expect(new Set(seen.values()).size).toBe(seen.size)
    // A field's value never spills into its neighbour, whatever separator it holds (the classic
    // concatenation ambiguity: "a<s>b" + "c" against "a" + "b<s>c").
    const order = ['authority', 'clientId', 'account', 'tenantId', 'scopes'] as const
    for (const separator of ['', ',', '","', '\n', '|', ':', ' ', '\u0000', '\\', '"', '\\"', '],[']) {
      for (let index = 0; index + 1 < order.length; index += 1) {
        const [left, right] = [order[index] as (typeof order)[number], order[index + 1] as (typeof order)[number]]
        const one = { ...partition, [left]: `a${separator}b`, [right]: 'c' }
        const two = { ...partition, [left]: 'a', [right]: `b${separator}c` }
        expect(tokenCacheKey(one)).not.toBe(tokenCacheKey(two))
      }
    }
    // A field's value never spills into its neighbour.
    expect(tokenCacheKey({ ...partition, clientId: 'a","b', account: '' })).not.toBe(tokenCacheKey({ ...partition, clientId: 'a', account: 'b' }))
    expect(tokenCacheKey({ ...partition, account: 'x' })).not.toBe(tokenCacheKey({ ...partition, account: '' }))
    expect(tokenCacheKey({ ...partition, cae: true })).not.toBe(tokenCacheKey(partition))
    expect(tokenCacheKey({ ...partition, kind: 'refresh_token' })).not.toBe(tokenCacheKey(partition))
  })
})

describe('serializeTokenCacheEntry / parseTokenCacheEntry', () => {
  it('round-trips an entry as versioned JSON', () => {
    const accessToken = { token: ACCESS, expiresOnTimestamp: NOW + HOUR, refreshAfterTimestamp: NOW + HOUR / 2, tokenType: 'Bearer' as const }
    const text = serializeTokenCacheEntry({ accessToken, refreshToken: REFRESH, account: 'uid.utid' })
    expect(JSON.parse(text)).toEqual({ version: 1, accessToken, refreshToken: REFRESH, account: 'uid.utid' })
    const parsed = parseTokenCacheEntry(text)
    expect(parsed?.refreshToken).toBe(REFRESH)
    expect(parsed?.account).toBe('uid.utid')
    expect(parsed?.accessToken?.token).toBe(ACCESS)
    expect(parsed?.accessToken?.expiresOnTimestamp).toBe(NOW + HOUR)
    expect(parsed?.accessToken?.refreshAfterTimestamp).toBe(NOW + HOUR / 2)
    expect(parsed?.accessToken?.tokenType).toBe('Bearer')
  })

  it('keeps the stored times exactly, fractions of a millisecond included', () => {
    const accessToken = { token: ACCESS, expiresOnTimestamp: NOW + HOUR + 0.123, refreshAfterTimestamp: NOW + HOUR / 2 + 0.7 }
    const parsed = parseTokenCacheEntry(serializeTokenCacheEntry({ accessToken }))
    expect(parsed?.accessToken).toEqual({ ...accessToken, tokenType: 'Bearer' })
  })

  it('a refresh-token-only entry (no access token) parses', () => {
    expect(parseTokenCacheEntry(serializeTokenCacheEntry({ refreshToken: REFRESH, account: 'uid.utid' }))).toEqual({
      refreshToken: REFRESH,
      account: 'uid.utid',
    })
  })

  it('drops an access token that is expired, within 60 s of expiry, or over 24 h away, and keeps the refresh token', () => {
    for (const expiresOnTimestamp of [NOW - 1, NOW, NOW + 59_000, NOW + 24 * HOUR + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const text = JSON.stringify({ version: 1, accessToken: { token: ACCESS, expiresOnTimestamp }, refreshToken: REFRESH })
      expect(parseTokenCacheEntry(text)).toEqual({ refreshToken: REFRESH, account: undefined })
      // Without a refresh token nothing is left.
      expect(parseTokenCacheEntry(JSON.stringify({ version: 1, accessToken: { token: ACCESS, expiresOnTimestamp } }))).toBeUndefined()
    }
    expect(parseTokenCacheEntry(serializeTokenCacheEntry({ accessToken: { token: ACCESS, expiresOnTimestamp: NOW + 24 * HOUR } }))?.accessToken).toBeDefined()
  })

  it('ignores a refreshAfterTimestamp outside the lifetime', () => {
    for (const refreshAfterTimestamp of [NOW + 2 * HOUR, NOW - HOUR, NOW + 30_000, 'soon', null]) {
      const text = JSON.stringify({ version: 1, accessToken: { token: ACCESS, expiresOnTimestamp: NOW + HOUR, refreshAfterTimestamp } })
      expect(parseTokenCacheEntry(text)?.accessToken?.refreshAfterTimestamp).toBeUndefined()
    }
  })

  it('refuses anything malformed with undefined, never an exception', () => {
    const valid = { version: 1, accessToken: { token: ACCESS, expiresOnTimestamp: NOW + HOUR }, refreshToken: REFRESH, account: 'uid.utid' }
    const malformed: unknown[] = [
      undefined,
      null,
      42,
      {},
      [JSON.stringify(valid)],
      { toString: () => JSON.stringify(valid) },
      '',
      'not json',
      'null',
      '[]',
      '"text"',
      '{}',
      JSON.stringify({ ...valid, version: 2 }),
      JSON.stringify({ ...valid, version: '1' }),
      JSON.stringify({ ...valid, refreshToken: 'has space' }),
      JSON.stringify({ ...valid, refreshToken: 'x'.repeat(65_537) }),
      JSON.stringify({ ...valid, refreshToken: 42 }),
      JSON.stringify({ ...valid, refreshToken: null }),
      JSON.stringify({ ...valid, account: 42 }),
      JSON.stringify({ ...valid, account: 'has space' }),
      JSON.stringify({ ...valid, account: 'a'.repeat(65_537) }),
      JSON.stringify({ ...valid, account: null }),
      JSON.stringify({ version: 1, accessToken: { token: 'line\nbreak', expiresOnTimestamp: NOW + HOUR } }),
      JSON.stringify({ version: 1, accessToken: { token: 42, expiresOnTimestamp: NOW + HOUR } }),
      JSON.stringify({ version: 1, accessToken: { token: ACCESS } }),
      JSON.stringify({ version: 1, accessToken: null }),
      JSON.stringify({ version: 1, accessToken: 'token' }),
      `${JSON.stringify(valid)}${' '.repeat(MAX_TOKEN_CACHE_VALUE_LENGTH)}`,
    ]
    for (const value of malformed) expect(() => parseTokenCacheEntry(value)).not.toThrow()
    for (const value of malformed) expect(parseTokenCacheEntry(value)).toBeUndefined()
    expect(parseTokenCacheEntry(JSON.stringify(valid))).toBeDefined()
  })

  it('keeps no other field of the stored JSON', () => {
    const text = JSON.stringify({
      version: 1,
      accessToken: { token: ACCESS, expiresOnTimestamp: NOW + HOUR, tokenType: 'pop', extra: 1 },
      refreshToken: REFRESH,
      idToken: 'x',
      __proto__: { polluted: true },
    })
    const parsed = parseTokenCacheEntry(text) as Record<string, unknown>
    expect(Object.keys(parsed).sort()).toEqual(['accessToken', 'account', 'refreshToken'])
    expect(Object.keys(parsed.accessToken as object).sort()).toEqual(['expiresOnTimestamp', 'token', 'tokenType'])
    expect((parsed.accessToken as { tokenType: string }).tokenType).toBe('Bearer')
  })
})

describe('MemoryTokenCache', () => {
  it('reads what was written until its expiry, and removes', async () => {
    const cache = new MemoryTokenCache()
    await cache.write('k', 'v', NOW + 1000)
    expect(await cache.read('k')).toBe('v')
    expect(await cache.read('other')).toBeUndefined()
    vi.advanceTimersByTime(1000)
    expect(await cache.read('k')).toBeUndefined()
    expect(cache.size).toBe(0)
    await cache.write('k', 'v', NOW + 2 * HOUR)
    await cache.remove('k')
    expect(await cache.read('k')).toBeUndefined()
  })

  it('at maxEntries drops expired entries first, then the oldest written', async () => {
    const cache = new MemoryTokenCache({ maxEntries: 3 })
    await cache.write('a', '1', NOW + HOUR)
    await cache.write('b', '2', NOW + 10)
    await cache.write('c', '3', NOW + HOUR)
    vi.advanceTimersByTime(10)
    await cache.write('d', '4', NOW + HOUR) // b expired: it goes, a stays
    expect([await cache.read('a'), await cache.read('b'), await cache.read('c'), await cache.read('d')]).toEqual(['1', undefined, '3', '4'])
    await cache.write('a', '1+', NOW + HOUR) // rewriting makes a the newest
    await cache.write('e', '5', NOW + HOUR) // none expired: the oldest (c) goes
    expect([await cache.read('a'), await cache.read('c'), await cache.read('d'), await cache.read('e')]).toEqual(['1+', undefined, '4', '5'])
    expect(cache.size).toBe(3)
  })

  it('a write at capacity costs O(1): writes into a full cache step over entries once per sweep, not once per write', async () => {
    // Counted, not timed: every step any Map iterator takes while the writes run.
    const SIZE = 3_000
    const cache = new MemoryTokenCache({ maxEntries: SIZE })
    const far = Date.now() + HOUR
    for (let index = 0; index < SIZE; index += 1) await cache.write(`k${index}`, 'v', far)
    let steps = 0
    const prototype = Map.prototype as unknown as Record<string | symbol, (...args: unknown[]) => Iterator<unknown>>
    const originals = new Map<string | symbol, (...args: unknown[]) => Iterator<unknown>>()
    for (const name of ['keys', 'values', 'entries', Symbol.iterator] as const) {
      const original = prototype[name] as (...args: unknown[]) => Iterator<unknown>
      originals.set(name, original)
      prototype[name] = function (this: unknown, ...args: unknown[]) {
        const iterator = original.apply(this, args)
        const next = iterator.next.bind(iterator)
        iterator.next = () => {
          steps += 1
          return next()
        }
        return iterator
      }
    }
    try {
      for (let index = SIZE; index < 2 * SIZE; index += 1) await cache.write(`k${index}`, 'v', far)
    } finally {
      for (const [name, original] of originals) prototype[name] = original
    }
    // One sweep (SIZE steps) plus one step per write; a scan per write would take SIZE * SIZE.
    expect(steps).toBeLessThan(4 * SIZE)
    expect(cache.size).toBe(SIZE)
    expect(await cache.read(`k${SIZE - 1}`)).toBeUndefined()
    expect(await cache.read(`k${SIZE}`)).toBe('v')
  })

  it('a full cache looks for expired entries at most once a minute, and meanwhile drops the oldest', async () => {
    const cache = new MemoryTokenCache({ maxEntries: 3 })
    await cache.write('a', '1', NOW + HOUR)
    await cache.write('b', '2', NOW + 10)
    await cache.write('c', '3', NOW + 10)
    vi.advanceTimersByTime(10)
    await cache.write('d', '4', NOW + HOUR) // full: the sweep drops the expired b and c
    await cache.write('e', '5', NOW + 20)
    vi.advanceTimersByTime(20)
    await cache.write('f', '6', NOW + HOUR) // e has expired, but the last sweep was 20 ms ago: the oldest (a) goes
    expect(cache.size).toBe(3)
    expect([await cache.read('a'), await cache.read('d'), await cache.read('f')]).toEqual([undefined, '4', '6'])
    vi.advanceTimersByTime(60_000)
    await cache.write('g', '7', NOW + 2 * HOUR) // a minute later the sweep runs again: expired e goes, d stays
    expect(cache.size).toBe(3)
    expect([await cache.read('d'), await cache.read('f'), await cache.read('g')]).toEqual(['4', '6', '7'])
  })

  it('is bounded: 10,000 entries by default', async () => {
    const cache = new MemoryTokenCache()
    for (let index = 0; index < 10_050; index += 1) await cache.write(`k${index}`, 'v', NOW + HOUR)
    expect(cache.size).toBe(10_000)
    expect(await cache.read('k49')).toBeUndefined()
    expect(await cache.read('k50')).toBe('v')
  })

  it('refuses a maxEntries out of range', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, 1e8, '10' as unknown as number]) {
      expect(() => new MemoryTokenCache({ maxEntries })).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    }
  })

  it('scrub() removes every entry', async () => {
    const cache = new MemoryTokenCache()
    await cache.write('a', REFRESH, NOW + HOUR)
    await cache.write('b', ACCESS, NOW + HOUR)
    await cache.scrub()
    expect(cache.size).toBe(0)
    expect(await cache.read('a')).toBeUndefined()
  })

  it('util.inspect and JSON.stringify show no token or key', async () => {
    const cache = new MemoryTokenCache()
    const key = tokenCacheKey({ ...partition, account: 'planted-account' })
    await cache.write(key, serializeTokenCacheEntry({ accessToken: { token: ACCESS, expiresOnTimestamp: NOW + HOUR }, refreshToken: REFRESH }), NOW + HOUR)
    for (const shown of [inspect(cache, { depth: 10, showHidden: true }), JSON.stringify(cache), JSON.stringify({ cache }), String(cache)]) {
      expect(shown).not.toContain(ACCESS)
      expect(shown).not.toContain(REFRESH)
      expect(shown).not.toContain('planted-account')
    }
    expect(JSON.parse(JSON.stringify(cache))).toEqual({ size: 1 })
  })
})
