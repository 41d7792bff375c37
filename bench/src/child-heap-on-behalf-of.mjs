// Heap held by on-behalf-of tokens cached for many users. Run with --expose-gc and
// NODE_EXTRA_CA_CERTS (the emulator's CA); the emulator runs in the parent, so its request log is not
// counted here. argv[2]:
//   ours      - one azcred OnBehalfOfCredential per request (dropped after it), tokens in the shared store
//   official  - one @azure/identity OnBehalfOfCredential kept per user: the only way its tokens stay cached
//   ours-flat - as ours with the store bounded to BENCH_MAX_USERS, heap measured after each batch of users
// BENCH_TOKENS_FILE holds the users' tokens (a JSON array). Prints JSON.
import { readFileSync } from 'node:fs'

const which = process.argv[2]
const { BENCH_AUTHORITY: authorityHost, BENCH_TENANT: tenantId, BENCH_CLIENT: clientId, BENCH_SECRET: clientSecret } = process.env
const tokens = JSON.parse(readFileSync(process.env.BENCH_TOKENS_FILE, 'utf8'))
const scope = 'https://storage.azure.com/.default'
const CONCURRENCY = 32

// Only the measured library is loaded.
const ours = which === 'official' ? undefined : await import('@azcred/on-behalf-of')
const Official = which === 'official' ? (await import('@azure/identity')).OnBehalfOfCredential : undefined
const userCache = which === 'ours-flat' ? new ours.OnBehalfOfUserCache({ maxUsers: Number(process.env.BENCH_MAX_USERS) }) : undefined
const kept = []
const make = (userAssertionToken) =>
  which === 'official'
    ? new Official({ tenantId, clientId, clientSecret, userAssertionToken, authorityHost, disableInstanceDiscovery: true })
    : new ours.OnBehalfOfCredential({ tenantId, clientId, clientSecret, userAssertionToken, authorityHost, userCache })

/** Every user's request: a credential (kept for the official one), one getToken; CONCURRENCY at a time. */
async function serve(list) {
  let next = 0
  const worker = async () => {
    while (next < list.length) {
      const credential = make(list[next++])
      if (which === 'official') kept.push(credential)
      await credential.getToken(scope)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

// Warm the modules and connections with one user not counted, then measure.
await serve([tokens[0]])
globalThis.gc()
const before = process.memoryUsage().heapUsed
if (which === 'ours-flat') {
  const batch = Number(process.env.BENCH_MAX_USERS)
  const heapAfter = []
  for (let start = 1; start < tokens.length; start += batch) {
    await serve(tokens.slice(start, start + batch))
    globalThis.gc()
    heapAfter.push(process.memoryUsage().heapUsed - before)
  }
  process.stdout.write(JSON.stringify({ heapAfter, users: userCache.size }))
} else {
  await serve(tokens.slice(1))
  globalThis.gc()
  const after = process.memoryUsage().heapUsed
  process.stdout.write(JSON.stringify({ bytesPerUser: (after - before) / (tokens.length - 1), kept: kept.length }))
}
