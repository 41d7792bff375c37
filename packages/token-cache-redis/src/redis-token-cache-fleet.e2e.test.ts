// A fleet of real Node processes (built @azcred/client-secret + this cache) against the Entra emulator
// and a real redis-server: one token request per token for the whole fleet, cold and in a refresh
// window; a crashed lock owner; Redis stopped mid-run. Fleet size: AZCRED_REDIS_FLEET_SIZE (default 50).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type EntraEmulator, type RegisteredApp, startEntraEmulator } from '@azcred/entra-emulator'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Fleet, type FleetMessage, type Member } from './__fixtures__/fleet'
import { type RedisServer, startRedisServer } from './__fixtures__/redis-server'

const SIZE = Number(process.env.AZCRED_REDIS_FLEET_SIZE ?? 50)
const LOCK_TTL_MS = 1_500
const PREFIX = 'fleet:'
const built = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

let redis: RedisServer
let emulator: EntraEmulator
let app: RegisteredApp
let fleet: Fleet
let folder: string

const tokenRequests = (scope: string): number =>
  emulator.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token') && request.form.client_id === app.clientId && request.form.scope === scope)
    .length
const hashes = (answers: Map<Member, FleetMessage>): Set<string | undefined> => new Set([...answers.values()].map((answer) => answer.hash))
const events = (member: Member, type: string): FleetMessage[] => member.messages.filter((message) => message.event?.type === type)
const crashes = (): FleetMessage[] => fleet.members.flatMap((member) => member.messages.filter((message) => message.type === 'crash'))

beforeAll(async () => {
  for (const path of ['../dist/index.js', '../../client-secret/dist/index.js']) {
    if (!existsSync(built(path))) throw new Error(`${path} is missing: build first (npx -y pnpm@10.34.9 --filter @azcred/token-cache-redis... build)`)
  }
  redis = await startRedisServer()
  emulator = await startEntraEmulator()
  app = emulator.registerApp()
  folder = mkdtempSync(join(tmpdir(), 'azcred-fleet-'))
  const caFile = join(folder, 'emulator-ca.pem')
  writeFileSync(caFile, emulator.certificate)
  fleet = await Fleet.start(SIZE, {
    NODE_EXTRA_CA_CERTS: caFile,
    FLEET_REDIS_URL: redis.url,
    FLEET_AUTHORITY: emulator.authorityHost,
    FLEET_TENANT: app.tenantId,
    FLEET_CLIENT: app.clientId,
    FLEET_SECRET: app.clientSecret,
    FLEET_KEY: randomBytes(32).toString('base64'),
    FLEET_PREFIX: PREFIX,
    FLEET_LOCK_TTL_MS: String(LOCK_TTL_MS),
  })
}, 120_000)

afterEach(() => {
  if (!process.env.FLEET_DEBUG) return
  const summary = new Map<string, number>()
  console.log(
    'LOCKS',
    JSON.stringify(
      fleet.members.flatMap((member) =>
        member.messages
          .filter((message) => /lock-acquired|refreshed|acquired/.test(String(message.event?.type)))
          .map((message) => [member.index, message.event]),
      ),
    ),
  )
  for (const member of fleet.members)
    for (const message of member.messages.splice(0)) {
      const key = `${message.type}:${message.event?.type ?? ''}:${message.event?.reason ?? message.code ?? ''}`
      summary.set(key, (summary.get(key) ?? 0) + 1)
    }
  console.log('SUMMARY', JSON.stringify([...summary]))
})

afterAll(async () => {
  await fleet?.stop()
  await redis?.stop()
  await emulator?.close()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

describe(`a fleet of ${SIZE} processes sharing one Redis token cache`, () => {
  const SCOPE = 'https://vault.azure.net/.default'
  let firstHash: string | undefined

  it(`${SIZE} processes asking cold at the same instant make exactly 1 token request and all get the same token`, async () => {
    const started = Date.now()
    const answers = await fleet.all({ cmd: 'token', scope: SCOPE })
    expect([...answers.values()].filter((answer) => answer.type !== 'token')).toEqual([])
    expect(answers.size).toBe(SIZE)
    expect(hashes(answers).size).toBe(1)
    expect(tokenRequests(SCOPE)).toBe(1)
    expect(fleet.members.filter((member) => events(member, 'lock-acquired').length === 1)).toHaveLength(1)
    expect(Date.now() - started).toBeLessThan(30_000)
    firstHash = [...answers.values()][0]?.hash
  })

  it('in the proactive refresh window, the fleet again makes exactly 1 request and adopts the same new token', async () => {
    // Tokens live 3600 s and refresh 300 s before expiry (no jitter): move every clock 3310 s on.
    await fleet.all({ cmd: 'advance', ms: 3_310_000 })
    const answers = await fleet.all({ cmd: 'new-token', scope: SCOPE, not: firstHash })
    expect([...answers.values()].filter((answer) => answer.type !== 'token')).toEqual([])
    expect(hashes(answers).size).toBe(1)
    expect(hashes(answers).has(firstHash)).toBe(false)
    expect(tokenRequests(SCOPE)).toBe(2)
  })

  it('Redis holds no token, tenant, client or scope in its keys or values', async () => {
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
    try {
      const keys = await client.keys('*')
      expect(keys.length).toBeGreaterThan(0)
      const values = await Promise.all(keys.map((key) => client.get(key)))
      const raw = `${keys.join('\n')}\n${values.join('\n')}`
      const decoded = values.map((value) => Buffer.from(String(value).slice(3), 'base64').toString('latin1')).join('\n')
      for (const plain of [app.tenantId, app.clientId, app.clientSecret, SCOPE, 'vault.azure.net', 'access_token', 'eyJ', firstHash as string]) {
        expect(raw).not.toContain(plain)
        expect(decoded).not.toContain(plain)
      }
      for (const key of keys) expect(key).toMatch(/^fleet:\{[A-Za-z0-9_-]{43}\}$/)
    } finally {
      await client.close()
    }
  })

  it('the lock owner killed mid-fetch: another process takes over once the lock expires, and all get its token', async () => {
    const scope = 'https://storage.azure.com/.default'
    // The first token request hangs; its sender is killed as soon as it holds the lock.
    emulator.injectFault({ kind: 'delay', ms: 15_000 }, { pathIncludes: '/oauth2/v2.0/token' })
    let owner: Member | undefined
    let killer: ReturnType<typeof setInterval> | undefined
    const stop = fleet.onMessage((member, message) => {
      if (owner === undefined && message.event?.type === 'lock-acquired') {
        owner = member
        // Killed once its request is at the emulator (mid-fetch), not before it was sent.
        killer = setInterval(() => {
          if (tokenRequests(scope) < 1) return
          clearInterval(killer)
          fleet.kill(member)
        }, 2)
      }
    })
    const started = Date.now()
    const answers = await fleet.all({ cmd: 'token', scope })
    stop()
    clearInterval(killer)
    expect(owner).toBeDefined()
    const survivors = [...answers.entries()].filter(([member]) => member !== owner)
    expect(survivors).toHaveLength(SIZE - 1)
    expect(survivors.filter(([, answer]) => answer.type !== 'token')).toEqual([])
    expect(new Set(survivors.map(([, answer]) => answer.hash)).size).toBe(1)
    // The killed owner's request and the one of the process that took over.
    expect(tokenRequests(scope)).toBe(2)
    // Another process took the lock over (on a loaded machine a late one may log an acquisition too; the
    // two token requests above show that only one of them fetched).
    const takeover = fleet.alive.flatMap((member) => events(member, 'lock-acquired'))
    expect(takeover.length).toBeGreaterThanOrEqual(1)
    // Everyone had the token within the lock TTL plus one fetch (a loaded CI gets a few seconds), long
    // before the hung request's 15 s.
    const lastToken = Math.max(...survivors.map(([, answer]) => Number(answer.at)))
    expect(lastToken - started).toBeLessThan(LOCK_TTL_MS + 6_000)
  })

  it('Redis stopped mid-run: tokens still flow (each process fetches for itself), with an event, and nothing crashes', async () => {
    const scope = 'https://management.azure.com/.default'
    await redis.stop()
    const started = Date.now()
    const answers = await fleet.all({ cmd: 'token', scope })
    const alive = fleet.alive
    expect([...answers.values()].filter((answer) => answer.type !== 'token')).toEqual([])
    expect(answers.size).toBe(alive.length)
    expect(tokenRequests(scope)).toBe(alive.length)
    expect(Date.now() - started).toBeLessThan(30_000)
    for (const member of alive) {
      expect(events(member, 'redis-unavailable').length + events(member, 'redis-client-error').length).toBeGreaterThan(0)
      expect(member.messages.some((message) => message.event?.type === 'cache-error')).toBe(true)
    }
    // Still alive a moment later: the client's reconnect errors are handled.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(crashes()).toEqual([])
    expect(fleet.alive).toHaveLength(alive.length)
  })
})
