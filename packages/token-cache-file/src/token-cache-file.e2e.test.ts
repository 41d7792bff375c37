// Across processes against the Entra emulator: a second process gets its first token from the persistent
// cache with 0 requests (app-only, ClientSecretCredential), and a restarted user's process finds its
// account (saved AuthenticationRecord) and tokens for a new audience from the cached refresh token, no prompt.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClientSecretCredential } from '@azcred/client-secret'
import { requestTokenGrant, type TokenRequest, type TokenResponse, UserTokenLifecycle } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { persistentTokenCache } from './index'

const childScript = fileURLToPath(new URL('./__fixtures__/cache-child.mjs', import.meta.url))
const packageFolder = fileURLToPath(new URL('..', import.meta.url))
const ARM = 'https://management.azure.com/.default'
const STORAGE = 'https://storage.azure.com/.default'
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

let emulator: EntraEmulator
let root: string
let caFile: string

beforeAll(async () => {
  emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: 1 })
  root = mkdtempSync(join(tmpdir(), 'azcred-tcf-e2e-'))
  caFile = join(root, 'emulator-ca.pem')
  writeFileSync(caFile, emulator.certificate)
})
afterAll(async () => {
  await emulator?.close()
  rmSync(root, { recursive: true, force: true })
})

function child(command: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [childScript, JSON.stringify(command)],
      { cwd: packageFolder, env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`child failed: ${error.message} ${stderr.slice(0, 500)}`))
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string))
      },
    )
  })
}

describe('persistent cache across processes (emulator)', () => {
  it('a second process gets its first token from the encrypted file with 0 requests', async () => {
    const directory = join(root, 'app-only')
    const app = emulator.registerApp()
    const tokenCache = persistentTokenCache({ enabled: true, name: 'app', directory })
    const credential = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      tokenCache,
    })
    const token = await credential.getToken(ARM)
    // The engine's write is not awaited by getToken: wait until the entry is on disk.
    for (let wait = 0; wait < 100 && !readdirSync(directory).includes('app.cache.json'); wait += 1) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(readFileSync(join(directory, 'app.cache.json'), 'utf8')).not.toContain(token.token)
    const before = emulator.requests.length
    const answer = await child({
      op: 'token',
      directory,
      name: 'app',
      authorityHost: emulator.authorityHost,
      tenantId: app.tenantId,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      scope: ARM,
    })
    expect(answer.sha256).toBe(sha256(token.token))
    expect(emulator.requests.length - before).toBe(0)
  }, 60_000)

  it('a restarted user process finds its account and gets a new audience from the cached refresh token, no prompt', async () => {
    const directory = join(root, 'user')
    const { clientId } = emulator.registerApp({ publicClient: true })
    const { username } = emulator.addUser({ username: 'ada@contoso.example' })
    const tokenCache = persistentTokenCache({ enabled: true, name: 'cli', directory })
    const issued: string[] = []
    const fetch: typeof emulator.fetch = async (input, init) => {
      const response = await emulator.fetch(input, init)
      const body = (await response
        .clone()
        .json()
        .catch(() => ({}))) as Record<string, unknown>
      for (const field of ['access_token', 'refresh_token', 'id_token']) if (typeof body[field] === 'string') issued.push(body[field] as string)
      return response
    }
    // A device-code sign-in, the user approving at once through the emulator's control API.
    const interactive = async (request: TokenRequest): Promise<TokenResponse> => {
      const started = await fetch(`${emulator.authorityHost}/${request.tenantId}/oauth2/v2.0/devicecode`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, scope: request.scopes.join(' ') }).toString(),
      })
      const { device_code, user_code } = (await started.json()) as { device_code: string; user_code: string }
      emulator.deviceCodes.approve(user_code, username)
      return requestTokenGrant({
        authorityHost: emulator.authorityHost,
        clientId,
        request,
        grant: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code, client_info: '1' },
        fetch,
      })
    }
    const lifecycle = new UserTokenLifecycle({
      credentialName: 'FirstProcess',
      tenantId: emulator.tenantId,
      clientId,
      authorityHost: emulator.authorityHost,
      fetch,
      tokenCache,
      interactive,
    })
    const record = await lifecycle.authenticate(ARM)
    await tokenCache.saveAuthenticationRecord(record)
    const armToken = await lifecycle.getToken(ARM)
    await new Promise((resolve) => setTimeout(resolve, 200)) // the engine's cache write is not awaited
    const raw = readFileSync(tokenCache.path, 'utf8')
    for (const secret of issued) expect(raw).not.toContain(secret)
    expect(raw).not.toContain(username)

    const devicecodes = emulator.requestsTo('/devicecode').length
    const before = emulator.requests.length
    const answer = (await child({
      op: 'user',
      directory,
      name: 'cli',
      authorityHost: emulator.authorityHost,
      tenantId: emulator.tenantId,
      clientId,
      scopes: [ARM, STORAGE],
    })) as { username: string; tokens: Array<{ aud: string; sha256: string }> }
    expect(answer.username).toBe(username)
    expect(answer.tokens[0]).toEqual({ aud: 'https://management.azure.com', sha256: sha256(armToken.token) })
    expect(answer.tokens[1]?.aud).toBe('https://storage.azure.com')
    // ARM from the file (0 requests), Storage from the refresh token (1 request), no new sign-in.
    expect(emulator.requests.length - before).toBe(1)
    expect(emulator.requestsTo('/devicecode').length).toBe(devicecodes)

    // Sign out: scrub the account; a restarted process has neither the account nor its tokens.
    await tokenCache.scrub({ account: record.homeAccountId })
    const after = readFileSync(tokenCache.path, 'utf8')
    for (const secret of issued) expect(after).not.toContain(secret)
    expect(await tokenCache.loadAuthenticationRecord({ clientId })).toBeUndefined()
  }, 60_000)
})
