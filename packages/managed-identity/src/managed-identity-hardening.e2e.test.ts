// Issue 11 for managed identity, host by host: no redirect is followed, no proxy is used whatever
// the fetch, probe verdicts are right and expire, Azure ML's default identity, abort ends the request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { type AddressInfo, createServer as createNetServer, type Socket as NetSocket, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { FetchLike, TokenEvent } from '@azcred/core'
import { type ManagedIdentityEndpoint, type ManagedIdentityHostKind, startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { createTransport } from '@azcred/undici'
import { decodeJwt } from 'jose'
import { getGlobalDispatcher, ProxyAgent, setGlobalDispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import { ManagedIdentityCredential as ImdsOnlyCredential } from './imds'
import { ManagedIdentityCredential, PROBE_NEGATIVE_TTL_MS } from './index.node'
import { createAppServiceHost } from './managed-identity-app-service'
import { createArcHost } from './managed-identity-arc'
import { createAzureMlHost } from './managed-identity-azure-ml'
import { createCloudShellHost } from './managed-identity-cloud-shell'
import { createDirectFetch } from './managed-identity-direct-fetch'
import { createImdsHost } from './managed-identity-imds'
import type { ManagedIdentityHost } from './managed-identity-request'
import { createServiceFabricHost } from './managed-identity-service-fabric'

const SCOPE = 'https://vault.azure.net/.default'
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 100, goneDelayMs: 200 }

let arcFolder: string
const endpoints: ManagedIdentityEndpoint[] = []
const servers: Server[] = []

async function start(host: ManagedIdentityHostKind, extra: Partial<Parameters<typeof startManagedIdentityEndpoint>[0]> = {}) {
  const endpoint = await startManagedIdentityEndpoint({ host, ...(host === 'azure-arc' ? { arcKeyDirectory: arcFolder } : {}), ...extra })
  endpoints.push(endpoint)
  hostEnvironment(endpoint.env)
  return endpoint
}

/** A loopback HTTP server that records what reaches it (and its raw connections). */
async function recordingServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  address = '127.0.0.1',
): Promise<{ url: string; hits: string[]; sockets: Socket[]; closed: () => number; server: Server }> {
  const hits: string[] = []
  const sockets: Socket[] = []
  let closedCount = 0
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url} ${JSON.stringify(request.headers)}`)
    handler(request, response)
  })
  server.on('connection', (socket) => {
    sockets.push(socket)
    socket.once('close', () => {
      closedCount += 1
    })
  })
  server.on('connect', (request, socket) => {
    hits.push(`CONNECT ${request.url} ${JSON.stringify(request.headers)}`)
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  servers.push(server)
  return { url: `http://${address}:${(server.address() as AddressInfo).port}`, hits, sockets, closed: () => closedCount, server }
}

/** Everything a failure exposes, for secret checks. */
function exposed(error: unknown, events: TokenEvent[] = []): string {
  return [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 }), JSON.stringify(events)].join('\n')
}

beforeAll(() => {
  arcFolder = mkdtempSync(join(tmpdir(), 'azcred-arc-hardening-'))
})
afterEach(async () => {
  vi.useRealTimers()
  vi.unstubAllEnvs()
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()))
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    server.close()
  }
})
afterAll(() => {
  rmSync(arcFolder, { recursive: true, force: true })
})

describe('A1: no managed identity request follows a redirect', () => {
  // The target answers like a token endpoint, so following the redirect would "work".
  const startTarget = () =>
    recordingServer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ access_token: 'target-token', expires_in: 3600, token_type: 'Bearer' }))
    }, '127.0.0.2')

  async function expectRefused(endpoint: ManagedIdentityEndpoint, credential: ManagedIdentityCredential, status: number, requestsSent: number) {
    const target = await startTarget()
    endpoint.injectRedirect(`${target.url}/stolen?x=1`, { status, count: 10, skip: requestsSent - 1 })
    const events: TokenEvent[] = []
    const failure = await credential.getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
    expect(failure.message).toContain(`HTTP ${status}`)
    expect(failure.message).toContain(target.url)
    expect(failure.message).not.toContain('/stolen')
    expect(target.hits).toEqual([]) // nothing reached the target, the secret header included
    expect(endpoint.requests).toHaveLength(requestsSent) // final: not retried
    if (endpoint.secret !== undefined) expect(exposed(failure, events)).not.toContain(endpoint.secret)
    return failure
  }

  it.each([301, 302, 303, 307, 308])('IMDS: %s is an error naming the status and target origin', async (status) => {
    const imds = await start('imds')
    await expectRefused(imds, new ManagedIdentityCredential({ retry: FAST_RETRY }), status, 1)
  })

  it.each(['app-service', 'azure-ml', 'cloud-shell', 'service-fabric'] as const)('%s: a 307 never carries the platform secret away', async (host) => {
    const endpoint = await start(host)
    await expectRefused(endpoint, new ManagedIdentityCredential({ retry: FAST_RETRY }), 307, 1)
  })

  it('Azure Arc: a 307 on the first request, and on the request that carries the key file', async () => {
    const arc = await start('azure-arc')
    await expectRefused(arc, new ManagedIdentityCredential({ arcKeyDirectory: arcFolder, retry: FAST_RETRY }), 307, 1)
    const realm = join(arcFolder, 'planted-redirect.key')
    writeFileSync(realm, 'planted-arc-key-for-redirect')
    const keyed = await start('azure-arc', { arcRealm: realm })
    const failure = await expectRefused(keyed, new ManagedIdentityCredential({ arcKeyDirectory: arcFolder, retry: FAST_RETRY }), 302, 2)
    expect(keyed.requests[1]?.headers.authorization).toBe('Basic planted-arc-key-for-redirect')
    expect(exposed(failure)).not.toContain('planted-arc-key-for-redirect')
  })

  it('the IMDS probe: a redirect is not IMDS, and nothing reaches the target', async () => {
    const imds = await start('imds')
    const target = await startTarget()
    imds.injectRedirect(`${target.url}/x`, { count: 10 })
    const failure = await new ManagedIdentityCredential({ endpoint: imds.url, probe: true }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
    expect(target.hits).toEqual([])
    expect(imds.requests).toHaveLength(1)
  })

  it('also over the direct transport used while a proxy is configured (with a custom fetch)', async () => {
    const appService = await start('app-service')
    const proxy = await recordingServer((_, response) => response.writeHead(502).end())
    hostEnvironment({ ...appService.env, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url })
    const transport = createTransport()
    try {
      await expectRefused(appService, new ManagedIdentityCredential({ fetch: transport.fetch, retry: FAST_RETRY }), 307, 1)
      expect(proxy.hits).toEqual([])
    } finally {
      await transport.close()
    }
  })
})

describe('C14: managed identity never goes through a proxy, whatever fetch it is given', () => {
  it.each(['imds', 'app-service', 'azure-ml', 'cloud-shell'] as const)(
    '%s with HTTP_PROXY and createTransport().fetch: the token arrives, the proxy sees nothing',
    async (host) => {
      const endpoint = await start(host)
      const proxy = await recordingServer((_, response) => response.writeHead(502).end())
      const proxyUrl = proxy.url
      hostEnvironment({ ...endpoint.env, HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, http_proxy: proxyUrl, https_proxy: proxyUrl })
      const transport = createTransport()
      try {
        // The transport really does use the proxy for an ordinary request...
        await transport.fetch(`${endpoint.url}`, { method: 'GET' }).catch(() => undefined)
        expect(proxy.hits.length).toBeGreaterThan(0)
        proxy.hits.length = 0
        const before = endpoint.requests.length
        // ...but not for managed identity.
        const token = await new ManagedIdentityCredential({ fetch: transport.fetch, retry: { maxAttempts: 1 } }).getToken(SCOPE)
        expect(decodeJwt(token.token).oid).toBe(endpoint.systemAssigned.objectId)
        expect(proxy.hits).toEqual([])
        expect(endpoint.requests.slice(before).every((request) => request.headers['x-forwarded-for'] === undefined)).toBe(true)
      } finally {
        await transport.close()
      }
    },
  )

  it('without a fetch option, a process-wide proxy dispatcher (no proxy variables) is not used either', async () => {
    const imds = await start('imds')
    const proxy = await recordingServer((_, response) => response.writeHead(502).end())
    const previous = getGlobalDispatcher()
    setGlobalDispatcher(new ProxyAgent(proxy.url))
    try {
      await fetch(`${imds.url}/`).catch(() => undefined)
      expect(proxy.hits.length).toBeGreaterThan(0) // global fetch goes through it
      proxy.hits.length = 0
      const token = await new ManagedIdentityCredential({ retry: { maxAttempts: 1 } }).getToken(SCOPE)
      expect(decodeJwt(token.token).oid).toBe(imds.systemAssigned.objectId)
      expect(proxy.hits).toEqual([])
    } finally {
      setGlobalDispatcher(previous)
    }
  })

  it('proxy variables set after construction (a .env loader) are honoured per request', async () => {
    const appService = await start('app-service')
    const calls: string[] = []
    const credential = new ManagedIdentityCredential({
      fetch: (input, init) => {
        calls.push(input)
        return fetch(input, init)
      },
    })
    const proxy = await recordingServer((_, response) => response.writeHead(502).end())
    vi.stubEnv('HTTPS_PROXY', proxy.url)
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(appService.systemAssigned.objectId)
    expect(calls).toEqual([]) // the given fetch was not used while a proxy is configured
    expect(proxy.hits).toEqual([])
  })

  it('the probe too', async () => {
    const imds = await start('imds')
    const proxy = await recordingServer((_, response) => response.writeHead(502).end())
    hostEnvironment({ ...imds.env, HTTP_PROXY: proxy.url })
    const transport = createTransport()
    try {
      await new ManagedIdentityCredential({ endpoint: imds.url, fetch: transport.fetch, probe: true }).getToken(SCOPE)
      expect(proxy.hits).toEqual([])
      expect(imds.requests.map((request) => request.headers.metadata ?? 'probe')).toEqual(['probe', 'true'])
    } finally {
      await transport.close()
    }
  })
})

describe('C11: Azure Machine Learning system-assigned identity', () => {
  it('sends clientid=DEFAULT_IDENTITY_CLIENT_ID and gets the managed identity token, not the compute user token', async () => {
    const ml = await start('azure-ml')
    expect(ml.env.DEFAULT_IDENTITY_CLIENT_ID).toBe(ml.systemAssigned.clientId)
    const token = await new ManagedIdentityCredential().getToken(SCOPE)
    expect(ml.requests[0]?.query.clientid).toBe(ml.systemAssigned.clientId)
    expect(decodeJwt(token.token).oid).toBe(ml.systemAssigned.objectId)
    expect(decodeJwt(token.token).oid).not.toBe(ml.computeUser.objectId)
  })

  it('an explicit user-assigned clientId wins over DEFAULT_IDENTITY_CLIENT_ID', async () => {
    const ml = await start('azure-ml')
    const identity = ml.userAssigned[0]
    const token = await new ManagedIdentityCredential({ clientId: identity?.clientId as string }).getToken(SCOPE)
    expect(ml.requests[0]?.query.clientid).toBe(identity?.clientId)
    expect(decodeJwt(token.token).oid).toBe(identity?.objectId)
  })

  it('without DEFAULT_IDENTITY_CLIENT_ID no clientid is sent (the platform then answers for the compute user)', async () => {
    const ml = await start('azure-ml')
    vi.stubEnv('DEFAULT_IDENTITY_CLIENT_ID', undefined)
    const token = await new ManagedIdentityCredential().getToken(SCOPE)
    expect(ml.requests[0]?.query.clientid).toBeUndefined()
    expect(decodeJwt(token.token).oid).toBe(ml.computeUser.objectId)
  })
})

describe('C13: IMDS probe verdicts are right and not permanent', () => {
  it(`one slow first answer does not disable managed identity: the negative verdict expires after PROBE_NEGATIVE_TTL_MS`, async () => {
    expect(PROBE_NEGATIVE_TTL_MS).toBe(60_000)
    const imds = await start('imds')
    imds.injectFault({ kind: 'delay', ms: 1500 })
    const credential = new ManagedIdentityCredential({ endpoint: imds.url, probe: { timeoutMs: 1000 } })
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
    // Remembered for a while: a chain asking again does not wait again.
    await expect(new ManagedIdentityCredential({ endpoint: imds.url, probe: { timeoutMs: 1000 } }).getToken(SCOPE)).rejects.toMatchObject({
      code: 'AZCRED_SOURCE_UNAVAILABLE',
    })
    expect(imds.requests).toHaveLength(1)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + PROBE_NEGATIVE_TTL_MS - 1_000)
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
    expect(imds.requests).toHaveLength(1)
    vi.setSystemTime(Date.now() + 2_000)
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(imds.systemAssigned.objectId)
    expect(imds.requests.map((request) => request.headers.metadata ?? 'probe')).toEqual(['probe', 'probe', 'true'])
  })

  it.each([
    ['200 with an HTML page', 200, 'text/html', '<html><body>Welcome</body></html>'],
    ['404 with JSON', 404, 'application/json', '{"error":"not_found"}'],
    ['200 with JSON that is not a token', 200, 'application/json', '{"status":"ok"}'],
    ['400 with HTML', 400, 'text/html', '<html>Bad Request</html>'],
    ['403 from Docker Desktop', 403, 'text/plain', 'A socket operation was attempted to an unreachable network'],
    ['500 with JSON', 500, 'application/json', '{"error":"server_error"}'],
  ])('an answer that is not IMDS (%s) does not count as "IMDS is here"', async (_, status, contentType, body) => {
    hostEnvironment({})
    const impostor = await recordingServer((__, response) => {
      response.writeHead(status, { 'content-type': contentType })
      response.end(body)
    })
    const failure = await new ManagedIdentityCredential({ endpoint: impostor.url, probe: true }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
    expect(impostor.hits).toHaveLength(1) // the probe only: no token request with Metadata: true
  })

  it('the real IMDS refusal of a headerless request (400, JSON error) counts, and is remembered for the process', async () => {
    const imds = await start('imds')
    await new ManagedIdentityCredential({ endpoint: imds.url, probe: true }).getToken(SCOPE)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 10 * PROBE_NEGATIVE_TTL_MS)
    await new ManagedIdentityCredential({ endpoint: imds.url, probe: true }).getToken('https://storage.azure.com/.default')
    expect(imds.requests.map((request) => request.headers.metadata ?? 'probe')).toEqual(['probe', 'true', 'true'])
  })
})

describe('B8: every host passes the abort signal to its request', () => {
  type Case = [string, (url: string) => ManagedIdentityHost, 'http' | 'https']
  const cases: Case[] = [
    ['IMDS', (url) => createImdsHost(url, undefined), 'http'],
    ['App Service', (url) => createAppServiceHost(`${url}/msi/token`, 'h'), 'http'],
    ['Azure ML', (url) => createAzureMlHost(`${url}/MSI/auth`, 's', 'c'), 'http'],
    ['Cloud Shell', (url) => createCloudShellHost(`${url}/oauth2/token`), 'http'],
    ['Azure Arc', (url) => createArcHost(`${url}/metadata/identity/oauth2/token`, arcFolder), 'http'],
  ]
  // The Node build's transport (createDirectFetch, which ManagedIdentityCredential from `.` always uses on
  // Node) leaves no socket open. With the runtime's fetch (`./imds`, no options.fetch), the request's socket
  // ends at once too; undici 6 (Node 20 and 22) then dials one more connection that carries no request and
  // idles for its keep-alive timeout (its abort destroys the socket with an InformationalError, so the
  // aborted request is queued again and dropped only once connected): not ours to close, so that case
  // checks the request's own socket and that nothing more is sent.
  it.each(cases.flatMap(([name, makeHost]) => [[`${name}, direct transport`, makeHost, true] as const, [`${name}, global fetch`, makeHost, false] as const]))(
    '%s: abort ends the socket at once',
    async (_, makeHost, direct) => {
      const silent = await recordingServer(() => {}) // never answers
      const controller = new AbortController()
      const started = Date.now()
      const pending = makeHost(silent.url).fetchToken({
        resource: 'https://vault.azure.net',
        identity: undefined,
        fetch: direct ? createDirectFetch() : undefined,
        timeoutMs: 30_000,
        abortSignal: controller.signal,
      })
      await vi.waitFor(() => expect(silent.hits).toHaveLength(1), { timeout: 5_000 })
      controller.abort()
      await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
      if (direct) await vi.waitFor(() => expect(silent.closed()).toBe(silent.sockets.length), { timeout: 2_000 })
      else await vi.waitFor(() => expect(silent.sockets[0]?.closed).toBe(true), { timeout: 2_000 })
      expect(silent.hits).toHaveLength(1)
      expect(Date.now() - started).toBeLessThan(10_000)
    },
  )

  it('Service Fabric (pinned TLS): abort ends the request', async () => {
    const fabric = await start('service-fabric')
    fabric.injectFault({ kind: 'delay', ms: 20_000 })
    const controller = new AbortController()
    const host = createServiceFabricHost(fabric.url, fabric.secret as string, fabric.thumbprint as string)
    const pending = host.fetchToken({
      resource: 'https://vault.azure.net',
      identity: undefined,
      fetch: undefined,
      timeoutMs: 30_000,
      abortSignal: controller.signal,
    })
    await vi.waitFor(() => expect(fabric.requests).toHaveLength(1), { timeout: 5_000 })
    const aborted = Date.now()
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(Date.now() - aborted).toBeLessThan(5_000)
  })

  it('through the credential: when every caller aborted, the request ends (contract C2)', async () => {
    hostEnvironment({})
    const silent = await recordingServer(() => {})
    const controller = new AbortController()
    const pending = new ManagedIdentityCredential({ endpoint: silent.url }).getToken(SCOPE, { abortSignal: controller.signal })
    await vi.waitFor(() => expect(silent.hits).toHaveLength(1), { timeout: 5_000 })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    await vi.waitFor(() => expect(silent.closed()).toBe(silent.sockets.length), { timeout: 3_000 })
    expect(silent.hits).toHaveLength(1)
  })
})

describe('B8: the IMDS probe ends too when its last waiter aborts', () => {
  it('a long probe timeout does not keep the socket (and the process) alive after abort, and leaves no verdict', async () => {
    hostEnvironment({})
    const silent = await recordingServer(() => {})
    const controller = new AbortController()
    const credential = new ManagedIdentityCredential({ endpoint: silent.url, probe: { timeoutMs: 600_000 } })
    const pending = credential.getToken(SCOPE, { abortSignal: controller.signal })
    await vi.waitFor(() => expect(silent.hits).toHaveLength(1), { timeout: 5_000 })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    await vi.waitFor(() => expect(silent.closed()).toBe(silent.sockets.length), { timeout: 3_000 })
    // No "not here" verdict was stored: the next call probes again.
    const again = credential.getToken(SCOPE, { abortSignal: AbortSignal.timeout(300) }).catch((error) => error)
    await vi.waitFor(() => expect(silent.hits).toHaveLength(2), { timeout: 5_000 })
    expect((await again).code).not.toBe('AZCRED_SOURCE_UNAVAILABLE')
  })
})

describe('B7: bad input is AZCRED_CONFIG_INVALID whatever happened before', () => {
  it('two resources at once are refused even while a remembered failure would answer', async () => {
    hostEnvironment({})
    const closed = await recordingServer(() => {})
    closed.server.close()
    closed.server.closeAllConnections()
    const credential = new ManagedIdentityCredential({ endpoint: closed.url, retry: { maxAttempts: 1 } })
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_NETWORK_ERROR' })
    await expect(credential.getToken([SCOPE, 'https://storage.azure.com/.default'])).rejects.toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
      message: expect.stringContaining('one resource at a time'),
    })
  })
})

describe('B10: errors retrying cannot fix are final for managed identity', () => {
  it('an https: endpoint answered by plain HTTP fails once, not for the whole retry budget', async () => {
    hostEnvironment({})
    const plain = await recordingServer((_, response) => response.writeHead(200).end('{}'))
    const started = Date.now()
    const failure = await new ManagedIdentityCredential({ endpoint: plain.url.replace('http:', 'https:') }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_NETWORK_ERROR', retryable: false })
    expect(plain.sockets).toHaveLength(1)
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})

/** A TCP server that accepts and reads but never answers (no TLS hello, no HTTP answer); counts closed sockets. */
async function silentTcpServer(): Promise<{ port: number; sockets: NetSocket[]; closed: () => number }> {
  const sockets: NetSocket[] = []
  let closedCount = 0
  const server = createNetServer((socket) => {
    sockets.push(socket)
    socket.resume() // read what arrives, so the client's FIN is seen
    socket.on('error', () => {})
    socket.once('close', () => {
      closedCount += 1
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return { port: (server.address() as AddressInfo).port, sockets, closed: () => closedCount }
}

describe('B8: a stalled endpoint ends at timeoutMs (or abort) at every stage, and its socket is closed', () => {
  it('Service Fabric: a TLS handshake that never completes fails with AZCRED_TIMEOUT after timeoutMs', async () => {
    const silent = await silentTcpServer()
    const secret = 'planted-service-fabric-header'
    hostEnvironment({ IDENTITY_ENDPOINT: `https://127.0.0.1:${silent.port}/msi/token`, IDENTITY_HEADER: secret, IDENTITY_SERVER_THUMBPRINT: 'AA'.repeat(20) })
    const started = Date.now()
    const failure = await new ManagedIdentityCredential({ timeoutMs: 300, retry: { maxAttempts: 1 } }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TIMEOUT', message: expect.stringContaining('300 ms') })
    expect(Date.now() - started).toBeLessThan(5_000)
    await vi.waitFor(() => expect(silent.closed()).toBe(1), { timeout: 3_000 })
    expect(exposed(failure)).not.toContain(secret)
  })

  it('Service Fabric: abort during the TLS handshake ends it (AZCRED_ABORTED, socket closed)', async () => {
    const silent = await silentTcpServer()
    const controller = new AbortController()
    const host = createServiceFabricHost(`https://127.0.0.1:${silent.port}/msi/token`, 'h', 'AA'.repeat(20))
    const pending = host.fetchToken({
      resource: 'https://vault.azure.net',
      identity: undefined,
      fetch: undefined,
      timeoutMs: 600_000,
      abortSignal: controller.signal,
    })
    await vi.waitFor(() => expect(silent.sockets).toHaveLength(1), { timeout: 5_000 })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    await vi.waitFor(() => expect(silent.closed()).toBe(1), { timeout: 3_000 })
  })

  it.each(['https: TLS handshake', 'http: answer headers'])('direct transport, stalled %s: AZCRED_TIMEOUT after timeoutMs, socket closed', async (stage) => {
    hostEnvironment({})
    const silent = await silentTcpServer()
    const endpoint = `${stage.startsWith('https') ? 'https' : 'http'}://127.0.0.1:${silent.port}`
    const failure = await new ManagedIdentityCredential({ endpoint, timeoutMs: 300, retry: { maxAttempts: 1 } }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TIMEOUT' })
    await vi.waitFor(() => expect(silent.closed()).toBe(1), { timeout: 3_000 })
  })

  it('direct transport, a body dripped byte by byte: AZCRED_TIMEOUT after timeoutMs, socket closed', async () => {
    hostEnvironment({})
    const drip = await recordingServer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{')
      const timer = setInterval(() => response.write(' '), 20)
      response.once('close', () => clearInterval(timer))
    })
    const started = Date.now()
    const failure = await new ManagedIdentityCredential({ endpoint: drip.url, timeoutMs: 300, retry: { maxAttempts: 1 } })
      .getToken(SCOPE)
      .catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(5_000)
    await vi.waitFor(() => expect(drip.closed()).toBe(drip.sockets.length), { timeout: 3_000 })
  })

  it('direct transport: the signal ends a request still waiting for its socket (an agent that never hands one over)', async () => {
    const agent = new HttpsAgent()
    let created = 0
    agent.createConnection = (() => {
      created += 1
      return undefined // and never calls back
    }) as unknown as HttpsAgent['createConnection']
    const controller = new AbortController()
    const pending = createDirectFetch(agent)('https://127.0.0.1:9/', { method: 'GET', signal: controller.signal })
    await vi.waitFor(() => expect(created).toBe(1))
    controller.abort()
    await expect(pending).rejects.toThrow('fetch failed')
  })
})

/** An in-memory `fetch` answering each request with `answer(n)` (n counts from 1), with the requests' fake-clock times. */
function scriptedFetch(answer: (n: number) => Response): { fetch: FetchLike; at: number[] } {
  const at: number[] = []
  return {
    at,
    fetch: async () => {
      at.push(Date.now())
      return answer(at.length)
    },
  }
}

const statusAnswer = (status: number): Response => new Response(JSON.stringify({ error: 'x' }), { status, headers: { 'content-type': 'application/json' } })
const tokenAnswer = (): Response =>
  new Response(JSON.stringify({ access_token: 'scripted-token', expires_in: '3600', token_type: 'Bearer' }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  })

/** Runs `call` on a fake clock until it settles (at most `limitMs` of fake time); returns its outcome and the fake time it took. */
async function onFakeClock<T>(call: () => Promise<T>, limitMs = 200_000): Promise<{ value?: T; error?: unknown; elapsedMs: number }> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  const started = Date.now()
  let outcome: { value?: T; error?: unknown } | undefined
  call().then(
    (value) => {
      outcome = { value }
    },
    (error) => {
      outcome = { error }
    },
  )
  for (let step = 0; outcome === undefined && step < limitMs / 100; step += 1) await vi.advanceTimersByTimeAsync(100)
  const elapsedMs = Date.now() - started
  vi.useRealTimers()
  expect(outcome).toBeDefined()
  return { ...outcome, elapsedMs }
}

describe('B10: a caller gives up within about 15 s by default; a 410 (IMDS upgrade) is waited out for at least 70 s', () => {
  it('an endpoint that always answers 500: the first getToken gives up within 15 s, and a second call at once fails fast', async () => {
    hostEnvironment({})
    const script = scriptedFetch(() => statusAnswer(500))
    const credential = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch })
    const first = await onFakeClock(() => credential.getToken(SCOPE))
    expect(first.error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 500 })
    expect(first.elapsedMs).toBeLessThanOrEqual(15_000)
    expect(script.at.length).toBeGreaterThan(1) // it did retry
    const sent = script.at.length
    await expect(credential.getToken(SCOPE)).rejects.toBe(first.error)
    expect(script.at).toHaveLength(sent)
  })

  it('an endpoint that always answers 410: attempts go on for at least 70 s (10 s apart), and end by 75 s', async () => {
    hostEnvironment({})
    const script = scriptedFetch(() => statusAnswer(410))
    const credential = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch })
    const result = await onFakeClock(() => credential.getToken(SCOPE))
    expect(result.error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 410 })
    const first = script.at[0] as number
    expect((script.at.at(-1) as number) - first).toBeGreaterThanOrEqual(70_000)
    expect(result.elapsedMs).toBeLessThanOrEqual(75_000)
    for (let index = 1; index < script.at.length; index += 1)
      expect((script.at[index] as number) - (script.at[index - 1] as number)).toBeGreaterThanOrEqual(10_000)
  })

  it('410 for 30 s, then 500: the 15 s caller budget is spent, so the first 500 is final', async () => {
    hostEnvironment({})
    let goneUntil = 0
    const script = scriptedFetch((n) => {
      if (n === 1) goneUntil = Date.now() + 30_000
      return statusAnswer(Date.now() < goneUntil ? 410 : 500)
    })
    const credential = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch })
    const result = await onFakeClock(() => credential.getToken(SCOPE))
    expect(result.error).toMatchObject({ status: 500 })
    expect(result.elapsedMs).toBeLessThan(45_000)
    expect(script.at.filter((time) => time >= goneUntil)).toHaveLength(1)
  })

  it('a 410 upgrade that ends after 40 s: the token arrives (the caller budget does not cut it short)', async () => {
    hostEnvironment({})
    let goneUntil = 0
    const script = scriptedFetch((n) => {
      if (n === 1) goneUntil = Date.now() + 40_000
      return Date.now() < goneUntil ? statusAnswer(410) : tokenAnswer()
    })
    const result = await onFakeClock(() => new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch }).getToken(SCOPE))
    expect(result.value).toMatchObject({ token: 'scripted-token' })
  })

  it('an abort during the wait after a 410 ends the call at once, with no further request', async () => {
    hostEnvironment({})
    const script = scriptedFetch(() => statusAnswer(410))
    const controller = new AbortController()
    const pending = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch }).getToken(SCOPE, { abortSignal: controller.signal })
    await vi.waitFor(() => expect(script.at).toHaveLength(1))
    const aborted = Date.now()
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(Date.now() - aborted).toBeLessThan(2_000) // not the 10 s goneDelayMs
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(script.at).toHaveLength(1)
  })

  it('410 retries count against retry.maxAttempts', async () => {
    hostEnvironment({})
    const script = scriptedFetch(() => statusAnswer(410))
    const credential = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch, retry: { maxAttempts: 3 } })
    const result = await onFakeClock(() => credential.getToken(SCOPE))
    expect(result.error).toMatchObject({ status: 410 })
    expect(script.at).toHaveLength(3)
  })
})

describe('B7: retryOptions (@azure/identity spelling) is mapped onto retry and checked', () => {
  it('maxRetries: 0 sends one request', async () => {
    hostEnvironment({})
    const script = scriptedFetch(() => statusAnswer(503))
    const credential = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: script.fetch, retryOptions: { maxRetries: 0 } })
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ status: 503 })
    expect(script.at).toHaveLength(1)
  })

  it('maxRetries, retryDelayInMs and maxRetryDelayInMs set attempts and backoff; retry wins where both are set', async () => {
    hostEnvironment({})
    const script = scriptedFetch(() => statusAnswer(503))
    const events: TokenEvent[] = []
    const options = { endpoint: 'http://127.0.0.1:9', fetch: script.fetch, onEvent: (event: TokenEvent) => events.push(event) }
    const mapped = new ManagedIdentityCredential({ ...options, retryOptions: { maxRetries: 2, retryDelayInMs: 40, maxRetryDelayInMs: 40 } })
    await expect(mapped.getToken(SCOPE)).rejects.toMatchObject({ status: 503 })
    expect(script.at).toHaveLength(3)
    const waits = events.filter((event) => event.type === 'retry-scheduled').map((event) => (event as { delayMs: number }).delayMs)
    expect(waits).toHaveLength(2)
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(40)
    script.at.length = 0
    const both = new ManagedIdentityCredential({ ...options, retryOptions: { maxRetries: 5, retryDelayInMs: 10 }, retry: { maxAttempts: 2 } })
    await expect(both.getToken(SCOPE)).rejects.toMatchObject({ status: 503 })
    expect(script.at).toHaveLength(2)
  })

  it('null retry and retryOptions mean the defaults', () => {
    hostEnvironment({})
    expect(() => new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', retry: null as never, retryOptions: null as never })).not.toThrow()
  })

  it.each([
    ['maxRetries -1', { maxRetries: -1 }, 'retryOptions.maxRetries'],
    ['maxRetries 100', { maxRetries: 100 }, 'retryOptions.maxRetries'],
    ['maxRetries "lots"', { maxRetries: 'lots' }, 'retryOptions.maxRetries'],
    ['maxRetries NaN', { maxRetries: Number.NaN }, 'retryOptions.maxRetries'],
    ['retryDelayInMs Infinity', { retryDelayInMs: Number.POSITIVE_INFINITY }, 'retryOptions.retryDelayInMs'],
    ['maxRetryDelayInMs -5', { maxRetryDelayInMs: -5 }, 'retryOptions.maxRetryDelayInMs'],
    ['5', 5, 'retryOptions must be an object'],
    ['[1]', [1], 'retryOptions must be an object'],
  ])('retryOptions %s is AZCRED_CONFIG_INVALID at construction', (_, retryOptions, name) => {
    hostEnvironment({})
    const make = () => new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', retryOptions: retryOptions as never })
    expect(make).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(name) }))
  })
})

describe('A2: getToken never throws synchronously', () => {
  const secret = 'planted-getter-secret'
  const evilScopes = new Proxy([SCOPE], {
    get(target, key) {
      if (key === 'length' || key === '0') throw new Error(secret)
      return target[key as never]
    },
  })
  const throwing = (name: string) =>
    Object.defineProperty({}, name, {
      enumerable: true,
      get() {
        throw new Error(secret)
      },
    })
  it.each([
    ['a Proxy of scopes that throws', evilScopes, undefined],
    ['a tenantId getter that throws', SCOPE, throwing('tenantId')],
    ['a claims getter that throws', SCOPE, throwing('claims')],
    [
      'options as a Proxy that throws',
      SCOPE,
      new Proxy(
        {},
        {
          get: () => {
            throw new Error(secret)
          },
          ownKeys: () => {
            throw new Error(secret)
          },
        },
      ),
    ],
  ])('%s: a rejected promise with AZCRED_CONFIG_INVALID, no secret', async (_, scopes, options) => {
    hostEnvironment({})
    const credential = new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: async () => tokenAnswer() })
    let pending: Promise<unknown> | undefined
    expect(() => {
      pending = credential.getToken(scopes as string[], options as never)
    }).not.toThrow()
    const failure = await (pending as Promise<unknown>).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(exposed(failure)).not.toContain(secret)
  })
})

describe('C13: a probe verdict speaks only for the transport that got it', () => {
  it('a credential whose fetch fails does not make IMDS "not here" for one on the default transport', async () => {
    const imds = await start('imds')
    const broken: FetchLike = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })
    }
    await expect(new ManagedIdentityCredential({ endpoint: imds.url, probe: true, fetch: broken }).getToken(SCOPE)).rejects.toMatchObject({
      code: 'AZCRED_SOURCE_UNAVAILABLE',
    })
    const token = await new ManagedIdentityCredential({ endpoint: imds.url, probe: true }).getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(imds.systemAssigned.objectId)
    expect(imds.requests.map((request) => request.headers.metadata ?? 'probe')).toEqual(['probe', 'true'])
  })

  it.each([
    ['throws a RangeError', 'RangeError'],
    ['resolves to something that is not a Response', undefined],
  ])('a fetch that %s (a bug, not a network failure) gives no "not here" verdict', async (_, named) => {
    const imds = await start('imds')
    const secret = 'planted-fetch-bug-secret'
    let buggy = true
    const fetch = ((input: string, init: RequestInit) => {
      if (!buggy) return globalThis.fetch(input, init)
      if (named) throw new RangeError(secret)
      return Promise.resolve({ secret })
    }) as FetchLike
    // The ./imds entry uses the given fetch as it is: two credentials with one fetch share verdicts.
    const options = { endpoint: imds.url, probe: true, fetch, retry: { maxAttempts: 1 } }
    const failure = await new ImdsOnlyCredential(options).getToken(SCOPE).catch((error) => error)
    expect(failure.code).not.toBe('AZCRED_SOURCE_UNAVAILABLE')
    if (named) expect(failure).toMatchObject({ code: 'AZCRED_NETWORK_ERROR', message: expect.stringContaining(named) })
    expect(exposed(failure)).not.toContain(secret)
    buggy = false
    const token = await new ImdsOnlyCredential(options).getToken(SCOPE)
    expect(decodeJwt(token.token).oid).toBe(imds.systemAssigned.objectId)
  })
})

describe('B6: a managed identity token that lives only seconds is refused, not fetched again on every call', () => {
  it('expires_on now + 5 s: AZCRED_RESPONSE_INVALID (core toAccessToken minimum lifetime)', async () => {
    hostEnvironment({})
    let sent = 0
    const short = async (): Promise<Response> => {
      sent += 1
      return new Response(JSON.stringify({ access_token: 'short-lived', expires_on: String(Math.floor(Date.now() / 1000) + 5), token_type: 'Bearer' }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })
    }
    const failure = await new ManagedIdentityCredential({ endpoint: 'http://127.0.0.1:9', fetch: short }).getToken(SCOPE).catch((error) => error)
    expect(failure).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID' })
    expect(failure.message).not.toContain('short-lived')
    expect(sent).toBe(1) // final, not retried
  })
})
