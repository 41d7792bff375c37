import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { AzcredError, serializeTokenCacheEntry, type TokenCachePartition, tokenCacheKey } from '@azcred/core'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RedisServer, startRedisServer } from './__fixtures__/redis-server'
import { createRedisTokenCache, type RedisTokenCacheEvent } from './index'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT_ID = 'b5d2a2c5-0b7e-4a50-9f0e-6d3a0e6c1c11'
const SCOPE = 'https://vault.azure.net/.default'
const partition = (overrides: Partial<TokenCachePartition> = {}): TokenCachePartition => ({
  kind: 'access_token',
  authority: 'https://login.microsoftonline.com',
  clientId: CLIENT_ID,
  account: '',
  tenantId: TENANT,
  scopes: SCOPE,
  cae: false,
  ...overrides,
})
const KEY = tokenCacheKey(partition())
const PLANTED = `eyJplanted.${'S'.repeat(40)}.secret`
const entry = (token = PLANTED, lifetimeMs = 3_600_000): { value: string; expires: number } => {
  const expires = Date.now() + lifetimeMs
  return { value: serializeTokenCacheEntry({ accessToken: { token, expiresOnTimestamp: expires } }), expires }
}

let server: RedisServer
const clients: Array<{ close(): Promise<unknown> }> = []
async function connect() {
  const client = createClient({ url: server.url, socket: { reconnectStrategy: false } })
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  return client
}
const encryptionKey = randomBytes(32)

beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {})
  await server?.stop()
})

describe('createRedisTokenCache', () => {
  it('round-trips an entry, encrypted, under a hashed name with the token lifetime as PX', async () => {
    const client = await connect()
    const cache = createRedisTokenCache({ client, encryptionKey, keyPrefix: 'test:roundtrip:' })
    const { value, expires } = entry()
    await cache.write(KEY, value, expires)
    expect(await cache.read(KEY)).toBe(value)
    const names = await client.keys('test:roundtrip:*')
    expect(names).toHaveLength(1)
    const name = names[0] as string
    expect(name).toMatch(/^test:roundtrip:\{[A-Za-z0-9_-]{43}\}$/)
    const stored = (await client.get(name)) as string
    for (const plain of [PLANTED, TENANT, CLIENT_ID, SCOPE, 'vault.azure.net', 'access_token']) {
      expect(name).not.toContain(plain)
      expect(stored).not.toContain(plain)
      expect(Buffer.from(stored.slice(3), 'base64').toString('latin1')).not.toContain(plain)
    }
    const ttl = await client.pTTL(name)
    expect(ttl).toBeGreaterThan(3_590_000)
    expect(ttl).toBeLessThanOrEqual(3_600_000)
  })

  it('a wrong key, garbage or a value moved to another entry is a miss with an event, never a throw', async () => {
    const client = await connect()
    const writer = createRedisTokenCache({ client, encryptionKey, keyPrefix: 'test:wrong:' })
    const events: RedisTokenCacheEvent[] = []
    const reader = createRedisTokenCache({ client, encryptionKey: randomBytes(32), keyPrefix: 'test:wrong:', onEvent: (event) => events.push(event) })
    const { value, expires } = entry()
    await writer.write(KEY, value, expires)
    // Another key names entries differently: nothing found, then this process takes the lock.
    expect(await reader.read(KEY)).toBeUndefined()
    // The same name, another key's value: unreadable.
    const [name] = await client.keys('test:wrong:{*}')
    const otherKey = tokenCacheKey(partition({ scopes: 'https://storage.azure.com/.default' }))
    const sameKey = createRedisTokenCache({ client, encryptionKey, keyPrefix: 'test:wrong:', lockWaitMs: 0, onEvent: (event) => events.push(event) })
    await sameKey.write(otherKey, entry().value, expires)
    const names = await client.keys('test:wrong:{*}')
    const otherName = names.find((candidate) => candidate !== name) as string
    // Copy entry A's ciphertext over entry B: bound to A, B cannot open it.
    await client.set(otherName, (await client.get(name as string)) as string)
    expect(await sameKey.read(otherKey)).toBeUndefined()
    await client.set(otherName, 'garbage, not a value')
    expect(await sameKey.read(otherKey)).toBeUndefined()
    await client.set(otherName, `v1.${randomBytes(200).toString('base64')}`)
    expect(await sameKey.read(otherKey)).toBeUndefined()
    expect(events.filter((event) => event.type === 'value-unreadable').length).toBeGreaterThanOrEqual(3)
    expect(JSON.stringify(events)).not.toContain(PLANTED)
  })

  it('a key ring: the first key encrypts, older keys still open their entries', async () => {
    const client = await connect()
    const oldKey = randomBytes(32)
    const newKey = randomBytes(32)
    const before = createRedisTokenCache({ client, encryptionKey: oldKey, keyPrefix: 'test:ring:' })
    const { value, expires } = entry()
    await before.write(KEY, value, expires)
    const after = createRedisTokenCache({ client, encryptionKey: [newKey, oldKey], keyPrefix: 'test:ring:' })
    expect(await after.read(KEY)).toBe(value)
    const second = entry(`${PLANTED}2`)
    await after.write(KEY, second.value, second.expires)
    const onlyNew = createRedisTokenCache({ client, encryptionKey: newKey, keyPrefix: 'test:ring:' })
    expect(await onlyNew.read(KEY)).toBe(second.value)
  })

  it('single flight: the first reader takes the lock, the others wait for its write and get its value', async () => {
    const caches = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const events: RedisTokenCacheEvent[] = []
        return {
          events,
          cache: createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:flight:', onEvent: (event) => events.push(event) }),
        }
      }),
    )
    const [first, ...others] = caches as [(typeof caches)[0], ...typeof caches]
    expect(await first.cache.read(KEY)).toBeUndefined()
    expect(first.events.map((event) => event.type)).toEqual(['lock-acquired'])
    const waiting = others.map(({ cache }) => cache.read(KEY))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const { value, expires } = entry()
    await first.cache.write(KEY, value, expires)
    expect(await Promise.all(waiting)).toEqual(others.map(() => value))
    for (const { events } of others) expect(events.map((event) => event.type)).toEqual(['lock-waited'])
  })

  it("a crashed fetcher's lock (no renewal, no write) expires after lockTtlMs and another process takes over", async () => {
    const aClient = await connect()
    const a = createRedisTokenCache({ client: aClient, encryptionKey, keyPrefix: 'test:crash:', lockTtlMs: 300 })
    const events: RedisTokenCacheEvent[] = []
    const b = createRedisTokenCache({
      client: await connect(),
      encryptionKey,
      keyPrefix: 'test:crash:',
      lockTtlMs: 300,
      onEvent: (event) => events.push(event),
    })
    expect(await a.read(KEY)).toBeUndefined()
    // The fetcher's process dies: its connection goes, so do its renewals.
    aClient.destroy()
    const started = Date.now()
    expect(await b.read(KEY)).toBeUndefined()
    const waited = Date.now() - started
    expect(events.map((event) => event.type)).toEqual(['lock-acquired'])
    expect(waited).toBeGreaterThanOrEqual(200)
    expect(waited).toBeLessThan(1_000)
  })

  it('a live fetcher renews its lock past lockTtlMs until it writes; its waiters get the token', async () => {
    const a = createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:renew:', lockTtlMs: 150 })
    const events: RedisTokenCacheEvent[] = []
    const b = createRedisTokenCache({
      client: await connect(),
      encryptionKey,
      keyPrefix: 'test:renew:',
      lockTtlMs: 150,
      onEvent: (event) => events.push(event),
    })
    expect(await a.read(KEY)).toBeUndefined()
    const waiting = b.read(KEY)
    // A slow fetch: four lock lifetimes.
    await new Promise((resolve) => setTimeout(resolve, 600))
    const { value, expires } = entry()
    await a.write(KEY, value, expires)
    expect(await waiting).toBe(value)
    expect(events.map((event) => event.type)).toEqual(['lock-waited'])
  })

  it('waits at most lockWaitMs, then lets its credential fetch (event lock-wait-timeout)', async () => {
    const a = createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:waitcap:', lockTtlMs: 10_000 })
    const events: RedisTokenCacheEvent[] = []
    const b = createRedisTokenCache({
      client: await connect(),
      encryptionKey,
      keyPrefix: 'test:waitcap:',
      lockWaitMs: 300,
      onEvent: (event) => events.push(event),
    })
    expect(await a.read(KEY)).toBeUndefined()
    const started = Date.now()
    expect(await b.read(KEY)).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(600)
    expect(events.map((event) => event.type)).toEqual(['lock-wait-timeout'])
  })

  it('a refresh: the token this process already has counts as a miss; the fleet waits for the newer one', async () => {
    const a = createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:refresh:' })
    const b = createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:refresh:' })
    const old = entry(`${PLANTED}old`, 600_000)
    await a.write(KEY, old.value, old.expires)
    expect(await b.read(KEY)).toBe(old.value)
    // Early in its life the token a process holds is still a hit (a second credential of the process reads it).
    expect(await a.read(KEY)).toBe(old.value)
    // Past half of its life (the engine refreshes there at the latest): both refresh, a takes the lock, b waits.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 400_000)
      expect(await a.read(KEY)).toBeUndefined()
      const waiting = b.read(KEY)
      await new Promise((resolve) => setTimeout(resolve, 50))
      const fresh = entry(`${PLANTED}new`, 3_600_000)
      await a.write(KEY, fresh.value, fresh.expires)
      expect(await waiting).toBe(fresh.value)
    } finally {
      vi.useRealTimers()
    }
    const fresh = { value: (await b.read(KEY)) as string }
    expect(fresh.value).toContain(`${PLANTED}new`)
    // An older token written late never replaces a newer one.
    await b.write(KEY, old.value, old.expires)
    const c = createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:refresh:' })
    expect(await c.read(KEY)).toBe(fresh.value)
  })

  it('refresh-token and account entries are stored and read without locks', async () => {
    const client = await connect()
    const events: RedisTokenCacheEvent[] = []
    const cache = createRedisTokenCache({ client, encryptionKey, keyPrefix: 'test:rt:', onEvent: (event) => events.push(event) })
    const key = tokenCacheKey(partition({ kind: 'refresh_token', account: 'uid.utid', scopes: '' }))
    expect(await cache.read(key)).toBeUndefined()
    const value = serializeTokenCacheEntry({ refreshToken: 'planted-refresh-token', account: 'uid.utid' })
    await cache.write(key, value, Date.now() + 86_400_000)
    await cache.write(key, value, Date.now() + 86_400_000)
    expect(await cache.read(key)).toBe(value)
    expect(events).toEqual([])
    expect(await client.keys('test:rt:*')).toHaveLength(1)
    await cache.remove(key)
    expect(await cache.read(key)).toBeUndefined()
  })

  it('scrub deletes every entry and lock under its prefix and nothing else', async () => {
    const client = await connect()
    const cache = createRedisTokenCache({ client, encryptionKey, keyPrefix: 'test:scrub*[x]:' })
    for (let index = 0; index < 1_200; index += 1) {
      const { value, expires } = entry()
      await cache.write(tokenCacheKey(partition({ scopes: `api://app/${index}` })), value, expires)
    }
    expect(await cache.read(tokenCacheKey(partition({ scopes: 'api://app/none' })))).toBeUndefined() // holds a lock
    await client.set('test:scrubX:other', 'kept')
    await client.set('unrelated', 'kept')
    await cache.scrub()
    expect(await client.keys('test:scrub\\*\\[x\\]:*')).toEqual([])
    expect(await client.get('test:scrubX:other')).toBe('kept')
    expect(await client.get('unrelated')).toBe('kept')
  })

  it('validates its options with AZCRED_CONFIG_INVALID, naming the option and never the key', async () => {
    const client = await connect()
    const secretKey = Buffer.from('planted-secret-key-not-32-bytes!!')
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ client, encryptionKey: secretKey }, /encryptionKey must be 32 random bytes/],
      [{ client, encryptionKey: 'a string' }, /encryptionKey/],
      [{ client, encryptionKey: [] }, /encryptionKey/],
      [{ client: {}, encryptionKey }, /client must be a connected node-redis client/],
      [{ client, encryptionKey, keyPrefix: 'a{b}' }, /keyPrefix/],
      [{ client, encryptionKey, keyPrefix: '' }, /keyPrefix/],
      [{ client, encryptionKey, lockTtlMs: 0 }, /lockTtlMs/],
      [{ client, encryptionKey, lockWaitMs: 30_000 }, /lockWaitMs must be a number of milliseconds from 0 to 29000/],
      [{ client, encryptionKey, commandTimeoutMs: Number.NaN }, /commandTimeoutMs/],
      [{ client, encryptionKey, onEvent: 'x' }, /onEvent/],
    ]
    for (const [options, message] of cases) {
      let thrown: unknown
      try {
        createRedisTokenCache(options as never)
      } catch (error) {
        thrown = error
      }
      expect(AzcredError.isInstance(thrown) && thrown.code).toBe('AZCRED_CONFIG_INVALID')
      expect((thrown as Error).message).toMatch(message)
      expect(`${(thrown as Error).message}${inspect(thrown)}`).not.toContain('planted-secret-key')
    }
  })

  it('nothing secret in util.inspect, JSON.stringify or events', async () => {
    const events: RedisTokenCacheEvent[] = []
    const cache = createRedisTokenCache({ client: await connect(), encryptionKey, keyPrefix: 'test:inspect:', onEvent: (event) => events.push(event) })
    const { value, expires } = entry()
    await cache.read(KEY)
    await cache.write(KEY, value, expires)
    await cache.read(KEY)
    const shown = `${inspect(cache, { showHidden: true, depth: 10 })}${JSON.stringify(cache)}${JSON.stringify(events)}`
    for (const secret of [PLANTED, encryptionKey.toString('base64'), encryptionKey.toString('hex'), TENANT, SCOPE]) expect(shown).not.toContain(secret)
    expect(JSON.parse(JSON.stringify(cache))).toEqual({ keyPrefix: 'test:inspect:', timeoutMs: 5_700 })
  })
})

describe('Redis down or slow', () => {
  it('rejects within commandTimeoutMs without the server, pauses Redis, and handles client errors', async () => {
    const own = await startRedisServer()
    const client = createClient({ url: own.url })
    await client.connect()
    const events: RedisTokenCacheEvent[] = []
    const cache = createRedisTokenCache({ client, encryptionKey, commandTimeoutMs: 200, pauseAfterFailureMs: 500, onEvent: (event) => events.push(event) })
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', onUnhandled)
    try {
      const { value, expires } = entry()
      await cache.write(KEY, value, expires)
      await own.stop()
      let started = Date.now()
      const error = await cache.read(tokenCacheKey(partition({ scopes: 'api://other/.default' }))).catch((caught: unknown) => caught)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(AzcredError.isInstance(error) && ['AZCRED_TIMEOUT', 'AZCRED_NETWORK_ERROR'].includes(error.code)).toBe(true)
      expect((error as Error).message).toMatch(/Redis token cache: read .*the credential goes on without it/)
      started = Date.now()
      await expect(cache.write(KEY, value, expires)).rejects.toThrow(/Redis token cache: write/)
      expect(Date.now() - started).toBeLessThan(500)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(events.some((event) => event.type === 'redis-unavailable')).toBe(true)
      expect(events.some((event) => event.type === 'redis-client-error')).toBe(true)
      expect(JSON.stringify(events)).not.toContain(PLANTED)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      client.destroy()
    }
  })
})
