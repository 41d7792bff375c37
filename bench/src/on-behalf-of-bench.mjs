// Rows for @azcred/on-behalf-of against the official @azure/identity OnBehalfOfCredential, same run,
// emulator on loopback: cached getToken for 10,000 distinct users with one credential per request (as a
// server builds them), the heap those users' cached tokens hold, and the heap as users keep arriving.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEntraEmulator } from '@azcred/entra-emulator'
import { OnBehalfOfCredential } from '@azcred/on-behalf-of'
import { OnBehalfOfCredential as OfficialOnBehalfOfCredential } from '@azure/identity'
import { guardPath } from './measure.mjs'

const SCOPE = 'https://storage.azure.com/.default'
const USERS = 10_000
const FLAT_BOUND = 2_000
const FLAT_USERS = 3 * FLAT_BOUND
const CONCURRENCY = 32

/**
 * `node --import <loopback guard> --expose-gc <script> <which>`; resolves with its stdout. Killed (by
 * its PID, through the handle) after `timeoutMs`: 10,000 on-behalf-of requests may take minutes on a
 * busy machine.
 */
function runChild(which, env, cwd, timeoutMs = 600_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', guardPath, '--expose-gc', 'src/child-heap-on-behalf-of.mjs', which], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(stdout))
      else reject(new Error(`child-heap-on-behalf-of ${which} exited ${code}: ${stderr.slice(0, 500)}`))
    })
  })
}

/** Runs `task(item)` for every item, CONCURRENCY at a time. */
async function each(items, task) {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await task(items[next++])
    }),
  )
}

/** Calls per second of `call(item)` over `items` in order, each awaited, for at least `minMs` (bounded rounds). */
async function rate(items, call, minMs = 1_000, maxRounds = 20) {
  let calls = 0
  const started = performance.now()
  for (let round = 0; round < maxRounds; round += 1) {
    for (const item of items) await call(item)
    calls += items.length
    if (performance.now() - started >= minMs) break
  }
  return calls / ((performance.now() - started) / 1000)
}

export async function benchOnBehalfOf(row, fmt, benchFolder) {
  const emulator = await startEntraEmulator()
  const workFolder = mkdtempSync(join(tmpdir(), 'azcred-obo-bench-'))
  try {
    const caFile = join(workFolder, 'emulator-ca.pem')
    writeFileSync(caFile, emulator.certificate)
    const api = emulator.registerApp({ identifierUris: ['api://bench-obo'] })
    const issue = async (count, prefix) => {
      const tokens = new Array(count)
      await each(
        Array.from({ length: count }, (_, index) => index),
        async (index) => {
          const user = emulator.addUser({ username: `${prefix}.${index}@contoso.onmicrosoft.com` })
          tokens[index] = await emulator.issueUserToken({ username: user.username, audience: 'api://bench-obo', expiresInSeconds: 3600 })
        },
      )
      return tokens
    }
    const tokens = await issue(USERS, 'obo-bench')
    const base = { tenantId: api.tenantId, clientId: api.clientId, clientSecret: api.clientSecret, authorityHost: emulator.authorityHost }
    const ours = (userAssertionToken) => new OnBehalfOfCredential({ ...base, userAssertionToken, fetch: emulator.fetch })
    const official = (userAssertionToken) =>
      new OfficialOnBehalfOfCredential({ ...base, userAssertionToken, disableInstanceDiscovery: true, tlsOptions: { ca: emulator.certificate } })

    // 1. Throughput: every user has called once (their tokens are cached); then requests keep coming,
    // each with a new credential. The official credential's cache lives in the credential, so a new one
    // per request means an on-behalf-of request each time.
    {
      const before = emulator.requests.length
      await each(tokens, (token) => ours(token).getToken(SCOPE))
      const warmRequests = emulator.requests.length - before
      const afterWarm = emulator.requests.length
      const oursRate = await rate(tokens, (token) => ours(token).getToken(SCOPE), 2_000)
      const cachedRequests = emulator.requests.length - afterWarm
      for (const token of tokens.slice(0, 20)) await official(token).getToken(SCOPE) // warm MSAL
      const officialRate = await rate(tokens.slice(20, 20 + 500), (token) => official(token).getToken(SCOPE), 1_000, 1)
      const ratio = oursRate / officialRate
      row(
        `OBO cached getToken, ${fmt(USERS)} users, new credential per request (calls/s)`,
        `${fmt(oursRate)} (${cachedRequests} requests; warm-up ${warmRequests})`,
        fmt(officialRate),
        `${fmt(ratio, 1)}x`,
        '>= 20x',
        ratio >= 20 && cachedRequests === 0 && warmRequests === USERS,
      )
    }

    // 2. Heap of the cached tokens of 10,000 users, in child processes (the emulator stays here).
    const tokensFile = join(workFolder, 'tokens.json')
    writeFileSync(tokensFile, JSON.stringify([tokens[0], ...tokens]))
    const env = {
      NODE_EXTRA_CA_CERTS: caFile,
      BENCH_AUTHORITY: emulator.authorityHost,
      BENCH_TENANT: api.tenantId,
      BENCH_CLIENT: api.clientId,
      BENCH_SECRET: api.clientSecret,
      BENCH_TOKENS_FILE: tokensFile,
    }
    {
      const heap = {}
      for (const which of ['ours', 'official']) {
        heap[which] = (await runChild(which, env, benchFolder)).bytesPerUser
      }
      row(
        `OBO heap per cached user, ${fmt(USERS)} users (bytes; official: a credential kept per user, its only cache)`,
        fmt(heap.ours),
        fmt(heap.official),
        `${fmt(heap.official / heap.ours, 1)}x smaller`,
        '<= 1/10 of official',
        heap.ours * 10 <= heap.official,
      )
    }

    // 3. Users keep arriving: the store bounded to FLAT_BOUND users, 3x as many arrive.
    {
      const more = await issue(FLAT_USERS, 'obo-flat')
      writeFileSync(tokensFile, JSON.stringify([more[0], ...more]))
      const { heapAfter, users } = await runChild('ours-flat', { ...env, BENCH_MAX_USERS: String(FLAT_BOUND) }, benchFolder)
      const growth = heapAfter.at(-1) / heapAfter[0]
      row(
        `OBO heap as users keep arriving (bound ${fmt(FLAT_BOUND)}; KB after ${heapAfter.map((_, index) => fmt((index + 1) * FLAT_BOUND)).join(' / ')} users)`,
        `${heapAfter.map((bytes) => fmt(bytes / 1024)).join(' / ')} (${fmt(users)} held)`,
        'unbounded per credential',
        `${fmt(growth, 2)}x`,
        'flat (last <= 1.15x first)',
        growth <= 1.15 && users === FLAT_BOUND,
      )
    }
  } finally {
    await emulator.close()
    rmSync(workFolder, { recursive: true, force: true })
  }
}

// Run alone: `node src/on-behalf-of-bench.mjs` prints these rows.
if (import.meta.url === `file://${process.argv[1]}`) {
  await import('./loopback-only.mjs')
  const { fileURLToPath } = await import('node:url')
  const fmt = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  await benchOnBehalfOf(
    (metric, ours, official, ratio, goal, met) => console.log([metric, ours, official, ratio, goal, met ? 'yes' : 'NO'].join(' | ')),
    fmt,
    fileURLToPath(new URL('..', import.meta.url)),
  )
}
