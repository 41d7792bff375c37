// authenticate() → AuthenticationRecord → a silent sign-in in a NEW PROCESS, through the persistent file
// cache (`tokenCachePersistenceOptions`, loaded from @azcred/token-cache-file). The child runs the built
// package (run `pnpm --filter @azcred/interactive-browser build` first) and must get a token for another
// audience from the refresh token in the file, with no browser. The file holds no token in plaintext.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serializeAuthenticationRecord } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { InteractiveBrowserCredential, type TokenCachePersistenceOptions } from './index'

let emulator: EntraEmulator
let directory: string
beforeAll(async () => {
  emulator = await startEntraEmulator()
  directory = mkdtempSync(join(tmpdir(), 'azcred-ib-cache-'))
})
afterAll(async () => {
  await emulator?.close()
  if (directory) rmSync(directory, { recursive: true, force: true })
})

const child = fileURLToPath(new URL('./__fixtures__/silent-child.mjs', import.meta.url))

/** Runs the child with `env`, ends it by PID after 30 s, and returns its one JSON line. */
function runChild(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    process_.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    process_.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    const timer = setTimeout(() => {
      if (process_.pid !== undefined) process.kill(process_.pid, 'SIGKILL')
    }, 30_000)
    process_.on('close', () => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as Record<string, unknown>)
      } catch {
        reject(new Error(`the child printed no JSON line: ${err.slice(0, 2000)}`))
      }
    })
  })
}

it('authenticate() in this process, then a silent token for a new audience in a new process from the file cache', async () => {
  const user = emulator.addUser({ username: 'file.cache@contoso.onmicrosoft.com' })
  const app = emulator.registerApp({ publicClient: true })
  const persistence: TokenCachePersistenceOptions = { enabled: true, name: 'interactive-browser-test', directory, keySource: 'file' }
  let trips = 0
  const credential = new InteractiveBrowserCredential({
    tenantId: app.tenantId,
    clientId: app.clientId,
    authorityHost: emulator.authorityHost,
    fetch: emulator.fetch,
    tokenCachePersistenceOptions: persistence,
    openBrowser: async (url) => {
      trips += 1
      const location = (await emulator.signInAtAuthorize(url, { username: user.username })).location ?? ''
      void fetch(location).then((response) => response.text())
    },
  })
  const record = await credential.authenticate('https://storage.azure.com/.default')
  expect(trips).toBe(1)
  const issued = emulator.requestsTo('/oauth2/v2.0/token').length

  const ca = join(directory, 'emulator-ca.pem')
  writeFileSync(ca, emulator.certificate)
  const answer = await runChild({
    NODE_EXTRA_CA_CERTS: ca,
    CHILD_TENANT_ID: app.tenantId,
    CHILD_CLIENT_ID: app.clientId,
    CHILD_AUTHORITY_HOST: emulator.authorityHost,
    CHILD_RECORD: serializeAuthenticationRecord(record),
    CHILD_CACHE_NAME: 'interactive-browser-test',
    CHILD_CACHE_DIRECTORY: directory,
    CHILD_SCOPE: 'https://vault.azure.net/.default',
  })
  expect(answer).toEqual({ aud: 'https://vault.azure.net', oid: user.oid, browserTrips: 0 })
  const childRequests = emulator.requestsTo('/oauth2/v2.0/token').slice(issued)
  expect(childRequests.map((request) => request.form.grant_type)).toEqual(['refresh_token'])

  // The file: encrypted, no refresh or access token in it.
  const files = readdirSync(directory).filter((name) => name.endsWith('.cache.json'))
  expect(files).toHaveLength(1)
  const text = readFileSync(join(directory, files[0] ?? ''), 'utf8')
  for (const request of emulator.requestsTo('/oauth2/v2.0/token')) {
    const refreshToken = request.form.refresh_token
    if (refreshToken) expect(text.includes(refreshToken)).toBe(false)
  }
  expect(text).not.toMatch(/eyJ[\w-]{20,}\./)
})
