// One process of a test fleet: ClientSecretCredential (built @azcred/client-secret) with the built Redis
// token cache, driven by JSON lines on stdin, answering JSON lines on stdout. No token is printed: only
// its SHA-256. Loopback only (the same network guard as the tests).
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { installNetworkGuard } from '@azcred/tooling-vitest/network-guard'

installNetworkGuard()
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`)
process.on('unhandledRejection', (reason) => {
  say({ type: 'crash', kind: 'unhandledRejection', name: reason?.name, code: reason?.code, message: String(reason?.message).slice(0, 300) })
  process.exit(70)
})
process.on('uncaughtException', (error) => {
  say({ type: 'crash', kind: 'uncaughtException', name: error?.name, code: error?.code, message: String(error?.message).slice(0, 300) })
  process.exit(70)
})
// A test clock: `advance` moves Date.now (the engine's and the cache's) forward, timers stay real.
const realNow = Date.now
let offset = 0
Date.now = () => realNow() + offset

const { ClientSecretCredential } = await import('@azcred/client-secret')
const { createRedisTokenCache } = await import('@azcred/token-cache-redis')
// node-redis's client package (what `redis` re-exports, without its modules): a fleet starts faster.
const { createClient } = await import('@redis/client')

const env = process.env
// No 'error' listener of our own: the cache must handle the client's errors.
const client = createClient({ url: env.FLEET_REDIS_URL, socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500) } })
const tokenCache = createRedisTokenCache({
  client,
  encryptionKey: Buffer.from(env.FLEET_KEY, 'base64'),
  keyPrefix: env.FLEET_PREFIX,
  lockTtlMs: Number(env.FLEET_LOCK_TTL_MS),
  // Generous for a loaded 2-core CI: the fleet waits up to 8 s for one fetch, a command up to 3 s.
  lockWaitMs: 8_000,
  commandTimeoutMs: 3_000,
  onEvent: (event) => say({ type: 'cache', event }),
})
await client.connect()
const credential = new ClientSecretCredential(env.FLEET_TENANT, env.FLEET_CLIENT, env.FLEET_SECRET, {
  authorityHost: env.FLEET_AUTHORITY,
  tokenCache,
  retry: { maxAttempts: 1 },
  refresh: { maxJitterMs: 0 },
  onEvent: (event) => say({ type: 'credential', event: { type: event.type, operation: event.operation, reason: event.reason } }),
})
// A process that has been up a while: its HTTPS stack is loaded and connected (a GET that is no token
// request), so that a 2-core CI starting 50 processes measures the cache, not TLS set-up.
await (await fetch(`${env.FLEET_AUTHORITY}/${env.FLEET_TENANT}/v2.0/.well-known/openid-configuration`)).arrayBuffer()
const hash = (token) => createHash('sha256').update(token).digest('hex')

createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line)
  const started = realNow()
  try {
    if (command.cmd === 'token') {
      const token = await credential.getToken(command.scope)
      say({ type: 'token', id: command.id, hash: hash(token.token), ms: realNow() - started, at: realNow() })
    } else if (command.cmd === 'advance') {
      offset += command.ms
      say({ type: 'advanced', id: command.id })
    } else if (command.cmd === 'new-token') {
      // The token changes once the background refresh (started by the first call) is done.
      for (let round = 0; round < 2_000 && realNow() - started < 20_000; round += 1) {
        const token = await credential.getToken(command.scope)
        if (hash(token.token) !== command.not) {
          say({ type: 'token', id: command.id, hash: hash(token.token), ms: realNow() - started, at: realNow() })
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      say({ type: 'failed', id: command.id, code: 'NO_NEW_TOKEN' })
    } else if (command.cmd === 'exit') {
      client.destroy()
      process.exit(0)
    }
  } catch (error) {
    say({ type: 'failed', id: command.id, code: error?.code, message: String(error?.message).slice(0, 200) })
  }
})
say({ type: 'ready' })
