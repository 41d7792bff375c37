// Fidelity: the real Azurite in OAuth mode (`--oauth basic`, which needs https) accepts the
// emulator's v1.0 Storage tokens and refuses its v2.0 ones, as Azure Storage's own emulator would.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator } from './index'

const STORAGE = 'https://storage.azure.com'
/** Storage's application id: an audience Azurite accepts, left out of `v1TokenResources` so its tokens stay v2.0. */
const STORAGE_APP_ID = 'e406a681-f3d4-42a8-90b6-c2b029497af1'
const location = mkdtempSync(join(tmpdir(), 'azcred-azurite-oauth-'))
let emulator: EntraEmulator
let azurite: ChildProcess
let blobUrl = ''

async function startAzuriteBlob(): Promise<{ child: ChildProcess; url: string }> {
  const tooling = createRequire(import.meta.url).resolve('@azcred/tooling-azurite/package.json')
  const azuriteRoot = dirname(createRequire(tooling).resolve('azurite/package.json'))
  const certs = fileURLToPath(new URL('../certs/', import.meta.url))
  const child = spawn(
    process.execPath,
    [
      join(azuriteRoot, 'dist', 'src', 'blob', 'main.js'),
      ...['--blobHost', '127.0.0.1', '--blobPort', '0', '--oauth', 'basic'],
      ...['--cert', join(certs, 'loopback.crt'), '--key', join(certs, 'loopback.key')],
      ...['--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck'],
    ],
    { cwd: location, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a loaded CI machine takes long to load Azurite's modules. On timeout the child is ended here.
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`Azurite did not start within 60 s:\n${output.slice(-1000)}`))
    }, 60_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8')
      const match = /successfully listens on (https:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Azurite exited with ${code}:\n${output.slice(-1000)}`))
    })
  })
  return { child, url: `${url}/devstoreaccount1` }
}

beforeAll(async () => {
  emulator = await startEntraEmulator({ v1TokenResources: [STORAGE] })
  const started = await startAzuriteBlob()
  azurite = started.child
  blobUrl = started.url
}, 90_000)
afterAll(async () => {
  if (azurite !== undefined && azurite.exitCode === null) {
    const exited = new Promise((resolve) => azurite.once('exit', resolve))
    azurite.kill('SIGTERM')
    const timer = setTimeout(() => azurite.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  await emulator?.close()
  rmSync(location, { recursive: true, force: true })
})

async function storageToken(scope: string): Promise<string> {
  const app = emulator.registerApp()
  const response = await emulator.fetch(`${emulator.url}/${app.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope }).toString(),
  })
  return ((await response.json()) as { access_token: string }).access_token
}

async function createContainer(name: string, token: string): Promise<{ status: number; body: string }> {
  // Azurite presents the same loopback leaf, so the emulator's fetch (which trusts the CA) reaches it.
  const response = await emulator.fetch(`${blobUrl}/${name}?restype=container`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'x-ms-version': '2025-11-05', 'x-ms-date': new Date().toUTCString() },
  })
  return { status: response.status, body: await response.text() }
}

describe('Azurite OAuth mode', () => {
  it('accepts a v1.0 Storage token from the emulator', async () => {
    expect(await createContainer('accepted', await storageToken(`${STORAGE}/.default`))).toMatchObject({ status: 201 })
  })

  it('refuses a v2.0 token for Storage (the issuer is what differs), so the acceptance above is the v1.0 issuer at work', async () => {
    const answer = await createContainer('refused', await storageToken(`${STORAGE_APP_ID}/.default`))
    expect(answer.status).toBe(403)
    expect(answer.body).toContain('Invalid token issuer')
  })
})
