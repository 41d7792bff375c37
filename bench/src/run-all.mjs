// `pnpm bench`: azcred's ClientSecretCredential and ManagedIdentityCredential against the official
// @azure/identity ones, measured in the same run against the local emulators on loopback, printed
// as one table of ratios.
import './loopback-only.mjs'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClientSecretCredential } from '@azcred/client-secret'
import { startEntraEmulator } from '@azcred/entra-emulator'
import { ClientSecretCredential as OfficialClientSecretCredential } from '@azure/identity'
import { benchManagedIdentity } from './managed-identity-bench.mjs'
import { median, medianTime, runNode, throughput } from './measure.mjs'
import { benchOnBehalfOf } from './on-behalf-of-bench.mjs'
import { benchSharedKey } from './shared-key-bench.mjs'
import { benchTokenCacheFile } from './token-cache-file-bench.mjs'
import { benchTokenCacheRedis } from './token-cache-redis-bench.mjs'

const SCOPE = 'https://management.azure.com/.default'
const benchFolder = fileURLToPath(new URL('..', import.meta.url))
const emulator = await startEntraEmulator()
const workFolder = mkdtempSync(join(tmpdir(), 'azcred-bench-'))
const caFile = join(workFolder, 'emulator-ca.pem')
writeFileSync(caFile, emulator.certificate)
const rows = []
const row = (metric, ours, official, ratio, goal, met) => rows.push({ metric, ours, official, ratio, goal, met: met ? 'yes' : 'NO' })
const fmt = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

const ours = (app) => new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, { authorityHost: emulator.authorityHost, fetch: emulator.fetch })
const official = (app) =>
  new OfficialClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
    authorityHost: emulator.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emulator.certificate },
  })

try {
  // 1. Cached getToken throughput.
  {
    const app = emulator.registerApp()
    const mine = ours(app)
    const theirs = official(app)
    await mine.getToken(SCOPE)
    await theirs.getToken(SCOPE)
    const oursRate = await throughput(() => mine.getToken(SCOPE), 1500)
    const officialRate = await throughput(() => theirs.getToken(SCOPE), 1500, 200_000)
    const ratio = oursRate / officialRate
    row('cached getToken (calls/s)', fmt(oursRate), fmt(officialRate), `${fmt(ratio, 1)}x`, '>= 2,000,000 and >= 100x', oursRate >= 2_000_000 && ratio >= 100)
  }

  // 2. Requests reaching the endpoint for N concurrent cold calls.
  for (const count of [1000, 10_000]) {
    const app = emulator.registerApp()
    let before = emulator.requests.length
    const mine = ours(app)
    await Promise.all(Array.from({ length: count }, () => mine.getToken(SCOPE)))
    const oursRequests = emulator.requests.length - before
    let officialRequests = 'not run'
    if (count === 1000) {
      before = emulator.requests.length
      const theirs = official(app)
      await Promise.all(Array.from({ length: count }, () => theirs.getToken(SCOPE)))
      officialRequests = String(emulator.requests.length - before)
    }
    row(`requests for ${fmt(count)} concurrent cold calls`, String(oursRequests), officialRequests, '-', 'exactly 1', oursRequests === 1)
  }

  // 3. First token of a new credential in a warm process, against one raw keep-alive POST.
  {
    const app = emulator.registerApp()
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: SCOPE }).toString()
    const url = `${emulator.authorityHost}/${app.tenantId}/oauth2/v2.0/token`
    const rawPost = async () => {
      const response = await emulator.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })
      await response.json()
    }
    await rawPost()
    await ours(app).getToken(SCOPE)
    await official(app).getToken(SCOPE)
    const samples = { raw: [], ours: [], official: [] }
    let requestsPerFirstToken = 0
    for (let round = 0; round < 40; round += 1) {
      samples.raw.push(await medianTime(rawPost, 1))
      const before = emulator.requests.length
      samples.ours.push(await medianTime(() => ours(app).getToken(SCOPE), 1))
      requestsPerFirstToken = Math.max(requestsPerFirstToken, emulator.requests.length - before)
      samples.official.push(await medianTime(() => official(app).getToken(SCOPE), 1))
    }
    const raw = median(samples.raw)
    const mine = median(samples.ours)
    const theirs = median(samples.official)
    row(
      'first token, warm process (ms, median)',
      `${fmt(mine, 2)} (${requestsPerFirstToken} request)`,
      fmt(theirs, 2),
      `${fmt(mine / raw, 2)}x raw POST (${fmt(raw, 2)} ms)`,
      '1 request, <= 1.3x raw POST',
      requestsPerFirstToken === 1 && mine / raw <= 1.3,
    )
  }

  // 4. Fresh process: import + construct + first token, minus a bare node start. Measured from
  // process start to the token (a serverless handler answers then); Node's own first-fetch cost
  // (undici and TLS set-up) is shown as the floor any fetch-based client pays.
  {
    const app = emulator.registerApp()
    const env = {
      NODE_EXTRA_CA_CERTS: caFile,
      BENCH_AUTHORITY: emulator.authorityHost,
      BENCH_TENANT: app.tenantId,
      BENCH_CLIENT: app.clientId,
      BENCH_SECRET: app.clientSecret,
    }
    const times = { bare: [], raw: [], ours: [], official: [] }
    for (let round = 0; round < 7; round += 1) {
      for (const which of Object.keys(times)) times[which].push(Number((await runNode(['src/child-first-token.mjs', which], env, benchFolder)).stdout))
    }
    const bare = median(times.bare)
    const raw = median(times.raw) - bare
    const mine = median(times.ours) - bare
    const theirs = median(times.official) - bare
    row(
      'fresh process: import+construct+token (ms over bare node)',
      `${fmt(mine, 1)} (floor: one raw fetch ${fmt(raw, 1)})`,
      fmt(theirs, 1),
      `${fmt(theirs / mine, 1)}x faster`,
      '>= 10x faster',
      theirs / mine >= 10,
    )
  }

  // 5. Heap per constructed credential.
  {
    const heap = {}
    for (const which of ['ours', 'official']) {
      const { stdout } = await runNode(['--expose-gc', 'src/child-heap.mjs', which], {}, benchFolder)
      heap[which] = JSON.parse(stdout).bytesPerCredential
    }
    row('heap per credential (bytes)', fmt(heap.ours), fmt(heap.official), `${fmt(heap.official / heap.ours, 1)}x smaller`, '<= 1,024 bytes', heap.ours <= 1024)
  }

  // 6. ManagedIdentityCredential on the emulated IMDS.
  await benchManagedIdentity(row, fmt, benchFolder)

  // 7. Storage Shared Key signing (no network).
  await benchSharedKey(row, fmt)

  // A second process's first token from @azcred/token-cache-file (encrypted file) against msal-node with a file cache plugin.
  await benchTokenCacheFile(row, fmt, benchFolder)

  // On-behalf-of: cached getToken for 10,000 users (a credential per request), heap, the bound.
  await benchOnBehalfOf(row, fmt, benchFolder)

  // 8. A fleet of cold processes sharing @azcred/token-cache-redis (a real redis-server on loopback).
  await benchTokenCacheRedis(row, fmt, benchFolder)
} finally {
  await emulator.close()
  rmSync(workFolder, { recursive: true, force: true })
}

const columns = ['metric', 'ours', 'official', 'ratio', 'goal', 'met']
const widths = columns.map((column) => Math.max(column.length, ...rows.map((entry) => entry[column].length)))
const line = (cells) =>
  cells
    .map((cell, index) => cell.padEnd(widths[index]))
    .join('  ')
    .trimEnd()
console.log(
  `azcred vs @azure/identity (ClientSecretCredential; MI rows: ManagedIdentityCredential; Shared Key rows: StorageSharedKeyCredentialPolicy), same run, emulator on loopback (Node ${process.version})\n`,
)
console.log([line(columns), line(widths.map((width) => '-'.repeat(width))), ...rows.map((entry) => line(columns.map((column) => entry[column])))].join('\n'))
