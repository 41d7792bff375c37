// Rows for @azcred/token-cache-file: a second process's first token from the persistent cache (import +
// read + decrypt + return, timed inside the process from its first line: the time over a bare node start), against @azure/msal-node with a file cache plugin
// (the official @azure/identity-cache-persistence cannot load here: keytar's native binary does not
// install without downloads), and the token requests those processes make (counted at the emulator).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClientSecretCredential } from '@azcred/client-secret'
import { startEntraEmulator } from '@azcred/entra-emulator'
import { persistentTokenCache } from '@azcred/token-cache-file'
import { median, runNode } from './measure.mjs'

const SCOPE = 'https://management.azure.com/.default'

export async function benchTokenCacheFile(row, fmt, benchFolder) {
  const emulator = await startEntraEmulator()
  const workFolder = mkdtempSync(join(tmpdir(), 'azcred-bench-tcf-'))
  try {
    const caFile = join(workFolder, 'emulator-ca.pem')
    writeFileSync(caFile, emulator.certificate)
    const app = emulator.registerApp()
    const metadata = await (await emulator.fetch(`${emulator.authorityHost}/${app.tenantId}/v2.0/.well-known/openid-configuration`)).text()
    const env = {
      NODE_EXTRA_CA_CERTS: caFile,
      BENCH_AUTHORITY: emulator.authorityHost,
      BENCH_TENANT: app.tenantId,
      BENCH_CLIENT: app.clientId,
      BENCH_SECRET: app.clientSecret,
      BENCH_CACHE_DIR: workFolder,
      BENCH_AUTHORITY_METADATA: metadata,
      // Our children use the default directory: the user data directory, which env-paths takes from here on Linux.
      XDG_DATA_HOME: workFolder,
    }
    // Fill both caches: ours from this process (encrypted file), the official one from a warm-up process.
    const tokenCache = persistentTokenCache({ enabled: true, name: 'bench', directory: join(workFolder, 'azcred') })
    await new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      tokenCache,
    }).getToken(SCOPE)
    // The engine's write is not awaited by getToken: wait until the entry is readable.
    const { tokenCacheKey } = await import('@azcred/core')
    const key = tokenCacheKey({
      kind: 'access_token',
      authority: emulator.authorityHost,
      clientId: app.clientId,
      account: '',
      tenantId: app.tenantId,
      scopes: SCOPE,
      cae: false,
    })
    for (let wait = 0; wait < 100 && (await tokenCache.read(key)) === undefined; wait += 1) await new Promise((resolve) => setTimeout(resolve, 20))
    await runNode(['src/child-persistent-token.mjs', 'official-warm'], env, benchFolder)

    const before = emulator.requests.length
    const times = { ours: [], official: [] }
    for (let round = 0; round < 11; round += 1) {
      for (const which of Object.keys(times)) times[which].push(Number((await runNode(['src/child-persistent-token.mjs', which], env, benchFolder)).stdout))
    }
    const requests = emulator.requests.length - before
    const mine = median(times.ours)
    const theirs = median(times.official)
    row(
      'second process, first token from the persistent cache (ms over bare node)',
      `${fmt(mine, 1)} (AES-256-GCM file)`,
      `${fmt(theirs, 1)} (msal-node + file plugin, plaintext)`,
      `${fmt(theirs / mine, 1)}x faster`,
      '>= 5x faster',
      theirs / mine >= 5,
    )
    row('token requests by those 22 processes', String(requests), '-', '-', '0', requests === 0)
  } finally {
    await emulator.close()
    rmSync(workFolder, { recursive: true, force: true })
  }
}
