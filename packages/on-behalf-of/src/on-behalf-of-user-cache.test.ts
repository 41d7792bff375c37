import { inspect } from 'node:util'
import { afterEach, expect, it, vi } from 'vitest'
import { OnBehalfOfUserCache, storeOf } from './on-behalf-of-user-cache'

afterEach(() => {
  vi.useRealTimers()
})

const HOUR = 3_600_000

it('keeps at most maxUsers users, evicting the least recently used (a read counts as a use)', () => {
  const cache = new OnBehalfOfUserCache({ maxUsers: 2 })
  const store = storeOf(cache)
  const later = Date.now() + HOUR
  store.write('a', later, 'k', 'token-a', later)
  store.write('b', later, 'k', 'token-b', later)
  expect(store.read('a', 'k')).toBe('token-a') // b is now the least recently used
  store.write('c', later, 'k', 'token-c', later)
  expect(cache.size).toBe(2)
  expect(store.read('b', 'k')).toBeUndefined()
  expect(store.read('a', 'k')).toBe('token-a')
  expect(store.read('c', 'k')).toBe('token-c')
})

it('at the bound, users whose incoming token expired go before live ones', () => {
  vi.useFakeTimers({ now: 1_000_000 })
  const cache = new OnBehalfOfUserCache({ maxUsers: 2 })
  const store = storeOf(cache)
  store.write('live', Date.now() + HOUR, 'k', 'token-live', Date.now() + HOUR)
  store.write('short', Date.now() + 1_000, 'k', 'token-short', Date.now() + HOUR)
  vi.setSystemTime(Date.now() + 2_000)
  store.write('new', Date.now() + HOUR, 'k', 'token-new', Date.now() + HOUR)
  expect(store.read('live', 'k')).toBe('token-live') // the oldest, but alive: kept
  expect(store.read('short', 'k')).toBeUndefined()
  expect(cache.size).toBe(2)
})

it("drops a user's tokens when the incoming token expires, and an expired token entry on read; writes for an expired assertion are ignored", () => {
  vi.useFakeTimers({ now: 1_000_000 })
  const cache = new OnBehalfOfUserCache()
  const store = storeOf(cache)
  store.write('u', Date.now() + 10_000, 'k1', 'v1', Date.now() + HOUR)
  store.write('u', Date.now() + 10_000, 'k2', 'v2', Date.now() + 5_000)
  store.setRefreshToken('u', Date.now() + 10_000, 'rt')
  vi.setSystemTime(Date.now() + 6_000)
  expect(store.read('u', 'k2')).toBeUndefined()
  expect(store.read('u', 'k1')).toBe('v1')
  expect(store.refreshToken('u')).toBe('rt')
  vi.setSystemTime(Date.now() + 5_000)
  expect(store.read('u', 'k1')).toBeUndefined()
  expect(store.refreshToken('u')).toBeUndefined()
  expect(cache.size).toBe(0)
  store.write('old', Date.now() - 1, 'k', 'v', Date.now() + HOUR)
  expect(cache.size).toBe(0)
})

it('heap stays flat as users keep arriving: the size never passes the bound', () => {
  const cache = new OnBehalfOfUserCache({ maxUsers: 100 })
  const store = storeOf(cache)
  const later = Date.now() + HOUR
  for (let index = 0; index < 10_000; index += 1) store.write(`user-${index}`, later, 'k', 'v', later)
  expect(cache.size).toBe(100)
  expect(store.read('user-9999', 'k')).toBe('v')
  expect(store.read('user-9899', 'k')).toBeUndefined()
})

it('bounds one user to 64 entries (the oldest written goes)', () => {
  const store = storeOf(new OnBehalfOfUserCache())
  const later = Date.now() + HOUR
  for (let index = 0; index < 70; index += 1) store.write('u', later, `k${index}`, `v${index}`, later)
  expect(store.read('u', 'k5')).toBeUndefined()
  expect(store.read('u', 'k6')).toBe('v6')
  expect(store.read('u', 'k69')).toBe('v69')
})

it('shows no token in util.inspect or JSON; clear() empties it; a bad maxUsers is AZCRED_CONFIG_INVALID', () => {
  const cache = new OnBehalfOfUserCache()
  const later = Date.now() + HOUR
  storeOf(cache).write('u', later, 'k', 'planted-access-token', later)
  storeOf(cache).setRefreshToken('u', later, 'planted-refresh-token')
  const shown = `${inspect(cache, { showHidden: true, depth: 10 })}${JSON.stringify(cache)}`
  expect(shown).not.toMatch(/planted/)
  expect(JSON.stringify(cache)).toBe('{"users":1}')
  cache.clear()
  expect(cache.size).toBe(0)
  for (const maxUsers of [0, -1, 1.5, 2_000_000, Number.NaN]) {
    expect(() => new OnBehalfOfUserCache({ maxUsers })).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
  }
  expect(() => storeOf({} as OnBehalfOfUserCache)).toThrow(/userCache must be an OnBehalfOfUserCache/)
})
