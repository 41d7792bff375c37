// One cold process of a benchmark fleet. argv[2]: redis (ours + @azcred/token-cache-redis) | none (ours,
// memory only) | official (@azure/identity). Imports and connects first, prints "ready", waits for one
// line on stdin, then gets one token and prints "done" (never the token). Run with the loopback guard.
import { createInterface } from 'node:readline'

const which = process.argv[2]
const {
  BENCH_AUTHORITY: authorityHost,
  BENCH_TENANT: tenant,
  BENCH_CLIENT: clientId,
  BENCH_SECRET: secret,
  BENCH_REDIS_URL: redisUrl,
  BENCH_KEY: key,
} = process.env
const scope = 'https://management.azure.com/.default'
let credential
let redis
if (which === 'official') {
  const { ClientSecretCredential } = await import('@azure/identity')
  credential = new ClientSecretCredential(tenant, clientId, secret, { authorityHost, disableInstanceDiscovery: true })
} else {
  const { ClientSecretCredential } = await import('@azcred/client-secret')
  let tokenCache
  if (which === 'redis') {
    const { createClient } = await import('redis')
    const { createRedisTokenCache } = await import('@azcred/token-cache-redis')
    // 30 s to connect: 200 processes starting at once on 2 cores are slow to get there.
    redis = await createClient({ url: redisUrl, socket: { connectTimeout: 30_000 } }).connect()
    tokenCache = createRedisTokenCache({
      client: redis,
      encryptionKey: Buffer.from(key, 'base64'),
      onEvent: process.env.BENCH_DEBUG ? (event) => process.stderr.write(`${JSON.stringify(event)}\n`) : undefined,
    })
  }
  credential = new ClientSecretCredential(tenant, clientId, secret, { authorityHost, tokenCache })
}
process.stdout.write('ready\n')
const lines = createInterface({ input: process.stdin })
lines.once('line', async () => {
  // A failure is reported (its code only) and counted by the bench, not a crash of the run.
  const outcome = await credential.getToken(scope).then(
    () => 'done',
    (error) => `failed ${error?.code ?? 'UNKNOWN'}`,
  )
  process.stdout.write(`${outcome}\n`)
  // close() (not destroy()) sends what is queued first: the token's write to Redis, which frees the lock.
  await redis?.close()
  lines.close()
  process.exit(0)
})
