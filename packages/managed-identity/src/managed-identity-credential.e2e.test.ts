import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { TokenEvent } from '@azcred/core'
import { type ManagedIdentityEndpoint, type ManagedIdentityHostKind, startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { EnvHttpProxyAgent, getGlobalDispatcher, setGlobalDispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import { ManagedIdentityCredential } from './index.node'

const SCOPE = 'https://vault.azure.net/.default'
const RESOURCE = 'https://vault.azure.net'
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 100, goneDelayMs: 200 }

const endpoints: ManagedIdentityEndpoint[] = []
let arcFolder: string

async function start(host: ManagedIdentityHostKind, extra: Partial<Parameters<typeof startManagedIdentityEndpoint>[0]> = {}) {
  const endpoint = await startManagedIdentityEndpoint({ host, userAssignedCount: 2, ...(host === 'azure-arc' ? { arcKeyDirectory: arcFolder } : {}), ...extra })
  endpoints.push(endpoint)
  hostEnvironment(endpoint.env)
  return endpoint
}

/** Everything a failure exposes, for secret checks. */
function exposed(error: unknown, events: TokenEvent[] = [], credential?: unknown): string {
  return [
    String(error),
    (error as Error).stack,
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    JSON.stringify(events),
    credential === undefined ? '' : inspect(credential, { depth: 10, showHidden: true }),
  ].join('\n')
}

/** Each user-assigned selector reaches `host` as its own query parameter and picks that identity. */
function itSendsEachSelectorAs(host: ManagedIdentityHostKind, parameters: Record<'clientId' | 'objectId' | 'resourceId', string>): void {
  it.each(Object.entries(parameters) as ['clientId' | 'objectId' | 'resourceId', string][])('sends %s as %s', async (option, parameter) => {
    const endpoint = await start(host)
    const identity = endpoint.userAssigned[1]
    if (identity === undefined) throw new Error('no identity')
    const token = await new ManagedIdentityCredential({ [option]: identity[option] }).getToken(SCOPE)
    expect(endpoint.requests[0]?.query[parameter]).toBe(identity[option])
    expect(decodeJwt(token.token).oid).toBe(identity.objectId)
  })
}

beforeAll(() => {
  arcFolder = mkdtempSync(join(tmpdir(), 'azcred-arc-'))
})
afterEach(async () => {
  vi.unstubAllEnvs()
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()))
})
afterAll(() => {
  rmSync(arcFolder, { recursive: true, force: true })
})

describe('IMDS', () => {
  it('gets a system-assigned token with Metadata: true and the resource from the scope', async () => {
    const imds = await start('imds')
    const credential = new ManagedIdentityCredential()
    expect(credential.source.name).toBe('imds')
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: RESOURCE, oid: imds.systemAssigned.objectId })
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 86_000_000)
    expect(imds.requests).toHaveLength(1)
    expect(imds.requests[0]).toMatchObject({
      method: 'GET',
      path: '/metadata/identity/oauth2/token',
      query: { 'api-version': '2018-02-01', resource: RESOURCE },
      headers: { metadata: 'true' },
    })
  })

  itSendsEachSelectorAs('imds', { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' })

  it('takes the client id as the first argument, like @azure/identity', async () => {
    const imds = await start('imds')
    await new ManagedIdentityCredential(imds.userAssigned[0]?.clientId as string).getToken(SCOPE)
    expect(imds.requests[0]?.query.client_id).toBe(imds.userAssigned[0]?.clientId)
  })

  it('treats 400 (identity not found) as final', async () => {
    const imds = await start('imds')
    const failure = await new ManagedIdentityCredential({ clientId: '00000000-0000-0000-0000-00000000dead' }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 400, error: 'invalid_request' })
    expect(failure.message).toContain('no identity with that clientId is assigned')
    expect(imds.requests).toHaveLength(1)
  })

  it('keeps retrying through a 410 upgrade window and then succeeds within the budget', async () => {
    const imds = await start('imds')
    imds.injectFault({ kind: 'status', status: 410, body: { error: 'gone' } }, { forMs: 700 })
    const events: TokenEvent[] = []
    const started = Date.now()
    const token = await new ManagedIdentityCredential({ retry: FAST_RETRY, onEvent: (event) => events.push(event) }).getToken(SCOPE)
    expect(token.token).toMatch(/^ey/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(650)
    const waits = events.filter((event) => event.type === 'retry-scheduled').map((event) => (event as { delayMs: number }).delayMs)
    expect(waits.length).toBeGreaterThanOrEqual(3)
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(200) // goneDelayMs between 410s
  })

  it('gives up on a 410 that outlasts the time budget, with the status', async () => {
    const imds = await start('imds')
    imds.injectFault({ kind: 'status', status: 410, body: { error: 'gone' } }, { forMs: 10_000 })
    const started = Date.now()
    const failure = await new ManagedIdentityCredential({ retry: { ...FAST_RETRY, maxElapsedMs: 900 } }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 410 })
    expect(failure.message).toContain('being updated')
    expect(Date.now() - started).toBeGreaterThanOrEqual(600)
    expect(imds.requests.length).toBeLessThanOrEqual(5)
  })

  it('retries 404, 500 and 429 (honouring Retry-After)', async () => {
    const imds = await start('imds')
    imds.injectFault({ kind: 'status', status: 404 })
    imds.injectFault({ kind: 'status', status: 500 })
    imds.injectFault({ kind: 'status', status: 429, retryAfter: 1 })
    const started = Date.now()
    await new ManagedIdentityCredential({ retry: FAST_RETRY }).getToken(SCOPE)
    expect(imds.requests).toHaveLength(4)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('1,000 concurrent cold calls send one request', async () => {
    const imds = await start('imds')
    const credential = new ManagedIdentityCredential()
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => credential.getToken(SCOPE)))
    expect(new Set(tokens.map((token) => token.token)).size).toBe(1)
    expect(imds.requests).toHaveLength(1)
  })

  it('takes its base from options.endpoint, AZURE_POD_IDENTITY_AUTHORITY_HOST or IMDS_ENDPOINT', async () => {
    const imds = await start('imds')
    hostEnvironment({})
    await new ManagedIdentityCredential({ endpoint: imds.url }).getToken(SCOPE)
    hostEnvironment({ IMDS_ENDPOINT: imds.url })
    await new ManagedIdentityCredential().getToken(SCOPE)
    hostEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url, IMDS_ENDPOINT: 'http://127.0.0.1:9' })
    await new ManagedIdentityCredential().getToken(SCOPE)
    expect(imds.requests).toHaveLength(3)
    expect(() => new ManagedIdentityCredential({ endpoint: 'imds.local' })).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('options.endpoint must be an http(s) URL') }),
    )
  })

  it('ignores a tenantId in getToken options (the identity lives in the resource tenant)', async () => {
    await start('imds')
    await expect(new ManagedIdentityCredential().getToken(SCOPE, { tenantId: 'contoso.onmicrosoft.com' })).resolves.toMatchObject({ tokenType: 'Bearer' })
  })

  it('never goes through a proxy, even when one is configured for the whole process', async () => {
    const imds = await start('imds')
    const closedPort = await freePort()
    const proxy = `http://127.0.0.1:${closedPort}`
    hostEnvironment({ ...imds.env, HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy })
    const previous = getGlobalDispatcher()
    setGlobalDispatcher(new EnvHttpProxyAgent())
    try {
      await expect(fetch(`${imds.url}/metadata/identity/oauth2/token`)).rejects.toThrow() // the process proxy is dead
      const token = await new ManagedIdentityCredential({ retry: { maxAttempts: 1 } }).getToken(SCOPE)
      expect(token.token).toMatch(/^ey/)
      expect(imds.requests.every((request) => request.headers['x-forwarded-for'] === undefined)).toBe(true)
    } finally {
      setGlobalDispatcher(previous)
    }
  })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('probe: a fast "not here" for credential chains', () => {
  it('answers unavailable at once when nothing listens, and remembers it', async () => {
    hostEnvironment({})
    const endpoint = `http://127.0.0.1:${await freePort()}`
    const started = Date.now()
    const failure = await new ManagedIdentityCredential({ endpoint, probe: true }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
    expect(failure.message).toContain('no IMDS answered')
    expect(Date.now() - started).toBeLessThan(1500)
  })

  it('answers unavailable in about its timeout when the port swallows requests, and a second credential does not wait again', async () => {
    hostEnvironment({})
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => {
      sockets.push(socket)
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`
    try {
      let started = Date.now()
      await expect(new ManagedIdentityCredential({ endpoint, probe: { timeoutMs: 400 } }).getToken(SCOPE)).rejects.toMatchObject({
        code: 'AZCRED_SOURCE_UNAVAILABLE',
      })
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(380)
      expect(elapsed).toBeLessThan(1500)
      started = Date.now()
      await expect(new ManagedIdentityCredential({ endpoint, probe: { timeoutMs: 400 } }).getToken(SCOPE)).rejects.toMatchObject({
        code: 'AZCRED_SOURCE_UNAVAILABLE',
      })
      expect(Date.now() - started).toBeLessThan(100)
      expect(sockets).toHaveLength(1)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  it('lets a live IMDS through: one headerless probe, then the token request', async () => {
    const imds = await start('imds')
    await new ManagedIdentityCredential({ endpoint: imds.url, probe: true }).getToken(SCOPE)
    expect(imds.requests.map((request) => request.headers.metadata ?? 'no Metadata header')).toEqual(['no Metadata header', 'true'])
  })

  it('skips the probe when AZURE_POD_IDENTITY_AUTHORITY_HOST names the endpoint, as the official libraries do', async () => {
    const imds = await start('imds')
    expect(imds.env.AZURE_POD_IDENTITY_AUTHORITY_HOST).toBe(imds.url)
    await new ManagedIdentityCredential({ probe: true }).getToken(SCOPE)
    expect(imds.requests.map((request) => request.headers.metadata ?? 'no Metadata header')).toEqual(['true'])
  })
})

describe('App Service, Functions, Container Apps', () => {
  it('sends X-IDENTITY-HEADER and api-version 2019-08-01', async () => {
    const appService = await start('app-service')
    const credential = new ManagedIdentityCredential()
    expect(credential.source.name).toBe('app-service')
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(appService.systemAssigned.objectId)
    expect(appService.requests[0]).toMatchObject({
      path: '/msi/token',
      query: { 'api-version': '2019-08-01', resource: RESOURCE },
      headers: { 'x-identity-header': appService.secret },
    })
  })

  itSendsEachSelectorAs('app-service', { clientId: 'client_id', objectId: 'principal_id', resourceId: 'mi_res_id' })

  it('says a refused header is final and never shows it', async () => {
    const appService = await start('app-service')
    vi.stubEnv('IDENTITY_HEADER', 'stale-identity-header-value')
    const events: TokenEvent[] = []
    const credential = new ManagedIdentityCredential({ onEvent: (event) => events.push(event) })
    const failure = await credential.getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 401 })
    expect(failure.message).toContain('refused the secret the platform provides')
    expect(appService.requests).toHaveLength(1)
    const seen = exposed(failure, events, credential)
    expect(seen).not.toContain('stale-identity-header-value')
    expect(seen).not.toContain(appService.secret)
  })
})

describe('Azure Arc', () => {
  it('answers the 401 challenge with the key file from the agent folder', async () => {
    const arc = await start('azure-arc')
    const credential = new ManagedIdentityCredential({ arcKeyDirectory: arcFolder })
    expect(credential.source.name).toBe('azure-arc')
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(arc.systemAssigned.objectId)
    expect(arc.requests).toHaveLength(2)
    expect(arc.requests[0]?.headers.authorization).toBeUndefined()
    expect(arc.requests[1]?.headers.authorization).toMatch(/^Basic \S+$/)
    expect(arc.requests[1]).toMatchObject({ query: { 'api-version': '2020-06-01', resource: RESOURCE }, headers: { metadata: 'true' } })
  })

  it('refuses a user-assigned identity before any request', async () => {
    const arc = await start('azure-arc')
    const failure = await new ManagedIdentityCredential({ clientId: 'c', arcKeyDirectory: arcFolder }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(failure.message).toContain('Azure Arc supports only the system-assigned identity')
    expect(arc.requests).toHaveLength(0)
  })

  it('never shows the key it read, even when the answer to it fails', async () => {
    const realm = join(arcFolder, 'planted.key')
    writeFileSync(realm, 'planted-arc-key-contents')
    await start('azure-arc', { arcRealm: realm })
    const events: TokenEvent[] = []
    // The platform fails after the key was sent: the error and the retry events must not carry it.
    const failingAfterKey = async (input: string, init: RequestInit) =>
      new Headers(init.headers).has('authorization') ? new Response('{"error":"server_error"}', { status: 500 }) : fetch(input, init)
    const credential = new ManagedIdentityCredential({
      arcKeyDirectory: arcFolder,
      fetch: failingAfterKey,
      onEvent: (event) => events.push(event),
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    })
    const failure = await credential.getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ status: 500 })
    expect(events.map((event) => event.type)).toEqual(['retry-scheduled'])
    expect(exposed(failure, events, credential)).not.toContain('planted-arc-key-contents')
  })

  it.each([
    ['outside the agent folder', () => join(mkdtempSync(join(tmpdir(), 'azcred-elsewhere-')), 'x.key'), 'short-key', 'is outside the agent token folder'],
    ['with the wrong extension', () => join(arcFolder, 'x.txt'), 'short-key', 'does not end in .key'],
    ['larger than 4096 bytes', () => join(arcFolder, 'big.key'), 'k'.repeat(5000), 'is larger than 4096 bytes'],
  ])('refuses a challenge file %s, without reading it into any message', async (_, makePath, contents, expected) => {
    const realm = makePath()
    writeFileSync(realm, contents)
    const arc = await start('azure-arc', { arcRealm: realm })
    const failure = await new ManagedIdentityCredential({ arcKeyDirectory: arcFolder }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID' })
    expect(failure.message).toContain(expected)
    expect(arc.requests).toHaveLength(1)
    expect(exposed(failure)).not.toContain(contents)
  })
})

describe('Cloud Shell', () => {
  it('POSTs the resource as a form with Metadata: true', async () => {
    const cloudShell = await start('cloud-shell')
    const credential = new ManagedIdentityCredential()
    expect(credential.source.name).toBe('cloud-shell')
    await credential.getToken(SCOPE)
    expect(cloudShell.requests[0]).toMatchObject({ method: 'POST', form: { resource: RESOURCE }, headers: { metadata: 'true' } })
    await expect(new ManagedIdentityCredential({ clientId: 'c' }).getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(cloudShell.requests).toHaveLength(1)
  })
})

describe('Service Fabric', () => {
  it('trusts the self-signed endpoint by its pinned thumbprint and sends the secret header', async () => {
    const fabric = await start('service-fabric')
    const credential = new ManagedIdentityCredential({ clientId: fabric.userAssigned[0]?.clientId as string })
    expect(credential.source.name).toBe('service-fabric')
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(fabric.userAssigned[0]?.objectId)
    expect(fabric.requests[0]).toMatchObject({
      query: { 'api-version': '2019-07-01-preview', resource: RESOURCE, client_id: fabric.userAssigned[0]?.clientId },
      headers: { secret: fabric.secret },
    })
  })

  it('refuses a certificate with another thumbprint before sending anything', async () => {
    const fabric = await start('service-fabric')
    vi.stubEnv('IDENTITY_SERVER_THUMBPRINT', '0123456789ABCDEF0123456789ABCDEF01234567')
    const failure = await new ManagedIdentityCredential().getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(failure.message).toContain('thumbprint is not IDENTITY_SERVER_THUMBPRINT')
    expect(fabric.requests).toHaveLength(0)
    expect(exposed(failure)).not.toContain(fabric.secret)
  })
})

describe('Azure Machine Learning', () => {
  it('sends secret and clientid, and reads the date-string expires_on', async () => {
    const ml = await start('azure-ml', { tokenLifetimeSeconds: 7200 })
    const identity = ml.userAssigned[0]
    const credential = new ManagedIdentityCredential({ clientId: identity?.clientId as string })
    expect(credential.source.name).toBe('azure-ml')
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(identity?.objectId)
    expect(Math.abs(token.expiresOnTimestamp - (Date.now() + 7_200_000))).toBeLessThan(5_000)
    expect(ml.requests[0]).toMatchObject({ query: { 'api-version': '2017-09-01', clientid: identity?.clientId }, headers: { secret: ml.secret } })
  })

  it('refuses objectId and resourceId, which it cannot select', async () => {
    const ml = await start('azure-ml')
    const failure = await new ManagedIdentityCredential({ objectId: 'o' }).getToken(SCOPE).catch((error) => error)
    expect(failure.message).toContain('user-assigned identities by clientId only')
    expect(ml.requests).toHaveLength(0)
  })
})

describe('secrets', () => {
  it('no IDENTITY_HEADER, MSI_SECRET or Arc key in errors, events or the credential', async () => {
    for (const host of ['app-service', 'azure-ml', 'service-fabric'] as const) {
      const endpoint = await start(host)
      endpoint.injectFault({ kind: 'status', status: 500 }, { count: 2 })
      const events: TokenEvent[] = []
      const credential = new ManagedIdentityCredential({ onEvent: (event) => events.push(event), retry: { ...FAST_RETRY, maxAttempts: 2 } })
      const failure = await credential.getToken(SCOPE).catch((error) => error)
      expect(failure).toMatchObject({ status: 500 })
      expect(events.map((event) => event.type)).toEqual(['retry-scheduled'])
      expect(exposed(failure, events, credential)).not.toContain(endpoint.secret)
    }
  })
})
