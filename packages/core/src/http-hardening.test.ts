// The shared request path under a hostile network (issue 11: A1, A3, B5, B10), against real
// loopback servers. Every test names the behaviour a user must see.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { inspect } from 'node:util'
import { createGzip } from 'node:zlib'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failureOf } from './__fixtures__/failure-of'
import { AzcredError, TokenRequestError } from './azcred-error'
import { requestClientCredentialsToken, requestEntraToken } from './entra-token'
import { type FetchLike, MAX_RESPONSE_BYTES, sendJsonRequest } from './http'
import { isTransient } from './retry-policy'
import { TokenLifecycle } from './token-lifecycle'

const PLANTED = 'planted-Secret~value.7f3a9'
const servers: { close(): Promise<void> }[] = []

interface Loopback {
  origin: string
  port: number
  hits: { method: string; url: string; body: string }[]
  close(): Promise<void>
}

async function listen(host: string, handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Loopback> {
  const hits: Loopback['hits'] = []
  const server = createServer(async (request, response) => {
    let body = ''
    for await (const chunk of request) body += chunk
    hits.push({ method: request.method ?? '', url: request.url ?? '', body })
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as { port: number }
  const loopback = {
    origin: `http://${host}:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  servers.push(loopback)
  return loopback
}

afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

/** Everything a log or a bug report could show of an error. */
function exposed(error: unknown): string {
  return [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 5 })].join('\n')
}

function tokenRequest(authorityHost: string, fetch?: FetchLike) {
  return requestEntraToken({
    authorityHost,
    tenantId: 'contoso.onmicrosoft.com',
    form: { grant_type: 'client_credentials', client_id: 'app', client_secret: PLANTED, scope: 'https://vault.azure.net/.default' },
    fetch,
  })
}

describe('A1: a secret never follows a redirect', () => {
  it.each([301, 302, 303, 307, 308])(
    'a token endpoint answering %i is a final error naming only the target origin; nothing reaches the target',
    async (status) => {
      const target = await listen('127.0.0.2', (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'stolen', expires_in: 3600 }))
      })
      const tokenServer = await listen('127.0.0.1', (_request, response) => {
        response.writeHead(status, { location: `${target.origin}/x?sig=${PLANTED}` }).end()
      })
      const error = await failureOf(tokenRequest(tokenServer.origin))
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
      expect(isTransient(error)).toBe(false) // the lifecycle does not retry it (C1)
      expect(error.message).toContain(`HTTP ${status}`)
      expect(error.message).toContain(`redirect to ${target.origin},`)
      expect(error.message).not.toContain('/x')
      expect(tokenServer.hits).toHaveLength(1)
      expect(tokenServer.hits[0]?.body).toContain('client_secret=') // the secret went to the token endpoint only
      expect(target.hits).toEqual([])
      expect(exposed(error)).not.toContain(PLANTED)
    },
  )

  it('through the lifecycle engine: one request, no retry, and the caller sees the redirect error', async () => {
    const target = await listen('127.0.0.2', (_request, response) => response.end('{}'))
    const tokenServer = await listen('127.0.0.1', (_request, response) => response.writeHead(307, { location: `${target.origin}/x` }).end())
    const lifecycle = new TokenLifecycle({
      credentialName: 'TestCredential',
      tenantId: 'contoso.onmicrosoft.com',
      retry: { maxAttempts: 5, baseDelayMs: 1 },
      fetchToken: (request) =>
        requestClientCredentialsToken({ authorityHost: tokenServer.origin, clientId: 'app', request, clientAuthentication: { client_secret: PLANTED } }),
    })
    const error = await failureOf(lifecycle.getToken('https://vault.azure.net/.default'))
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
    expect(tokenServer.hits).toHaveLength(1)
    expect(target.hits).toEqual([])
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it('a Location carrying user:password@ or an odd scheme shows neither the credentials nor the path', async () => {
    let location = ''
    const server = await listen('127.0.0.1', (_request, response) => response.writeHead(302, { location }).end())
    location = `http://user:${PLANTED}@127.0.0.2:8443/p/${PLANTED}`
    const withUserinfo = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }))
    expect(withUserinfo.message).toContain('redirect to http://127.0.0.2:8443,')
    expect(exposed(withUserinfo)).not.toContain(PLANTED)
    location = `javascript:${PLANTED}`
    const odd = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }))
    expect(odd.message).toContain('redirect to null,')
    expect(exposed(odd)).not.toContain(PLANTED)
  })

  it('a 302 to a place that answers with a token is never accepted as the token', async () => {
    const target = await listen('127.0.0.2', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'stolen', expires_in: 3600, token_type: 'Bearer' }))
    })
    const tokenServer = await listen('127.0.0.1', (_request, response) => response.writeHead(302, { location: `${target.origin}/token` }).end())
    const error = await failureOf(sendJsonRequest({ url: `${tokenServer.origin}/token`, endpointName: 'the test endpoint' }))
    expect(error.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
    expect(target.hits).toEqual([])
  })

  it('a relative Location names the endpoint’s own origin; a missing one names no target', async () => {
    const relative = await listen('127.0.0.1', (_request, response) => response.writeHead(307, { location: '/elsewhere?x=1' }).end())
    const missing = await listen('127.0.0.1', (_request, response) => response.writeHead(303).end())
    expect((await failureOf(sendJsonRequest({ url: relative.origin, endpointName: 'E' }))).message).toBe(
      `E answered HTTP 307 (redirect to ${relative.origin}, never followed): use the final URL`,
    )
    expect((await failureOf(sendJsonRequest({ url: missing.origin, endpointName: 'E' }))).message).toBe(
      'E answered HTTP 303 (redirect to ?, never followed): use the final URL',
    )
  })

  it('a custom fetch is told not to follow redirects, and its opaque redirect (status 0) is refused', async () => {
    const inits: RequestInit[] = []
    // What a browser's fetch returns for redirect: 'manual' (Node 20's undici returns the real 3xx, tested above).
    const opaque = new Response(null)
    Object.defineProperty(opaque, 'status', { value: 0 })
    Object.defineProperty(opaque, 'type', { value: 'opaqueredirect' })
    const fetch: FetchLike = async (_input, init) => {
      inits.push(init)
      return opaque
    }
    const error = await failureOf(tokenRequest('https://login.example.invalid', fetch))
    expect(inits.map((init) => init.redirect)).toEqual(['manual'])
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
    expect(error.message).toContain('HTTP 0')
  })

  it('refuses a URL with user:password@ (or no valid URL) before sending, without echoing the password', async () => {
    const server = await listen('127.0.0.1', (_request, response) => response.end('{}'))
    for (const url of [`http://user:${PLANTED}@127.0.0.1:${server.port}/`, `http://${PLANTED}@127.0.0.1:${server.port}/`, `//${PLANTED}`, '']) {
      const error = await failureOf(sendJsonRequest({ url, endpointName: 'the test endpoint' }))
      expect(error.code).toBe('AZCRED_CONFIG_INVALID')
      expect(error.message).toContain('without user:password@')
      expect(exposed(error)).not.toContain(PLANTED)
    }
    expect(server.hits).toEqual([])
  })
})

describe('A3: server strings reach messages and fields only bounded and clean', () => {
  const GUID = '8d6f1a0c-1c43-4b9e-9f53-2f1d6c2b7e11'

  async function refusal(body: unknown, headers: Record<string, string> = {}): Promise<TokenRequestError> {
    const server = await listen('127.0.0.1', (_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
    })
    const error = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }))
    expect(error).toBeInstanceOf(TokenRequestError)
    return error as TokenRequestError
  }

  it('keeps a well-formed Entra error as it is', async () => {
    const error = await refusal({ error: 'invalid_client', error_codes: [7000215], trace_id: GUID, correlation_id: GUID, claims: '{"access_token":{}}' })
    expect(error).toMatchObject({ error: 'invalid_client', errorCodes: [7000215], traceId: GUID, correlationId: GUID, claims: '{"access_token":{}}' })
    expect(error.message).toContain(`(HTTP 400 invalid_client, AADSTS7000215)`)
    expect(error.message).toContain(`[trace ${GUID}, correlation ${GUID}]`)
  })

  it('a hostile body cannot forge lines, colours or length in the message, and odd fields are dropped', async () => {
    const forged = '\n[trace 00000000-0000-0000-0000-000000000000] \u001b[31mcall +1 555 0100\u001b[0m\u2028'
    const error = await refusal({
      error: `invalid_client${forged}`,
      error_codes: ['7000215', Number.POSITIVE_INFINITY, -1.5, 50076, ...Array.from({ length: 1000 }, () => 1)],
      trace_id: `${GUID}${forged}`,
      correlation_id: 'x'.repeat(100_000),
      claims: `{"a":"\u001b[2J${'y'.repeat(100_000)}"}`,
    })
    // Not an OAuth error token: the generic refusal, with no server text at all.
    expect(error.message).toBe('E answered HTTP 400 with application/json: the service or a proxy failed')
    expect(error.error).toBeUndefined()
    expect(error.traceId).toBeUndefined()
    expect(error.correlationId).toBeUndefined()

    const kept = await refusal({
      error: 'interaction_required',
      error_codes: ['7000215', Number.POSITIVE_INFINITY, -1.5, 50076, ...Array(100).fill(1)],
      trace_id: forged,
      claims: `{"a":"\u001b[2J\u009b${'y'.repeat(100_000)}"}`,
    })
    expect(kept.errorCodes).toEqual([50076, 1, 1, 1, 1, 1, 1, 1, 1])
    expect(kept.traceId).toBeUndefined()
    expect(kept.claims).toMatch(/^\{"a":"\[2Jy+$/)
    expect(kept.claims).toHaveLength(8192)
    expect(kept.message).not.toContain('yyy') // claims are kept for a retry, never put in the message
    expect(kept.message).not.toMatch(/[^ -~]/)
  })

  it('caps and cleans an echoed content type, including C1 controls sent as raw header bytes', async () => {
    const { createServer: createTcpServer } = await import('node:net')
    const server = createTcpServer((socket) => {
      socket.once('data', () => {
        const contentType = Buffer.concat([Buffer.from('text/html'), Buffer.from([0x9b, 0x33, 0x31, 0x6d, 0xe2, 0x80, 0xa8]), Buffer.from('z'.repeat(5000))])
        socket.end(
          Buffer.concat([
            Buffer.from('HTTP/1.1 502 Bad Gateway\r\ncontent-type: '),
            contentType,
            Buffer.from('\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno'),
          ]),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      const error = await failureOf(sendJsonRequest({ url: `http://127.0.0.1:${port}/`, endpointName: 'E' }))
      expect(error.message).toBe(`E answered HTTP 502 with text/html31m${'z'.repeat(88)} (not a JSON error): the service or a proxy failed`)
    } finally {
      server.close()
    }
  })
})

describe('B5: answer bodies are read up to MAX_RESPONSE_BYTES', () => {
  const answering =
    (body: BodyInit, headers: Record<string, string> = {}): FetchLike =>
    async () =>
      new Response(body, { headers: { 'content-type': 'application/json', ...headers } })

  it('accepts a JSON answer of exactly MAX_RESPONSE_BYTES bytes and refuses one byte more', async () => {
    const exact = `{"p":"${'a'.repeat(MAX_RESPONSE_BYTES - 8)}"}`
    expect(new TextEncoder().encode(exact).byteLength).toBe(MAX_RESPONSE_BYTES)
    const ok = await sendJsonRequest({ url: 'http://127.0.0.1:9/', endpointName: 'E' }, { fetch: answering(exact) })
    expect((ok.body.p as string).length).toBe(MAX_RESPONSE_BYTES - 8)

    const error = await failureOf(sendJsonRequest({ url: 'http://127.0.0.1:9/', endpointName: 'E' }, { fetch: answering(`${exact} `) }))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toBe('E answered over 1 MiB (MAX_RESPONSE_BYTES): check the URL')
  })

  it('counts bytes, not characters', async () => {
    const body = `{"p":"${'é'.repeat(600_000)}"}` // 600 000 characters, 1.2 MB
    const error = await failureOf(sendJsonRequest({ url: 'http://127.0.0.1:9/', endpointName: 'E' }, { fetch: answering(body) }))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
  })

  function memory(): number {
    const { heapUsed, arrayBuffers } = process.memoryUsage()
    return heapUsed + arrayBuffers
  }

  it('stops reading a 50 MB answer early: the server could not send it all and memory stays flat', async () => {
    const total = 50 * 1024 * 1024
    let sent = 0
    let finished = false
    const server = await listen('127.0.0.1', async (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) })
      const chunk = Buffer.alloc(64 * 1024, 'a')
      chunk[0] = '['.charCodeAt(0)
      while (sent < total && !response.destroyed) {
        sent += chunk.length
        if (!response.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              response.off('drain', done).off('close', done)
              resolve()
            }
            response.on('drain', done).on('close', done)
          })
        }
      }
      finished = sent >= total && !response.destroyed
      response.end()
    })
    const before = memory()
    const error = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(memory() - before).toBeLessThan(64 * 1024 * 1024)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(finished).toBe(false)
    expect(sent).toBeLessThan(total / 2)
  })

  it('stops decompressing a gzip bomb (100 MB of zeros) at the limit', async () => {
    const gzip = createGzip({ level: 9 })
    const compressed: Buffer[] = []
    gzip.on('data', (chunk: Buffer) => compressed.push(chunk))
    const zeros = Buffer.alloc(1024 * 1024, '0')
    for (let index = 0; index < 100; index += 1) gzip.write(zeros)
    await new Promise((resolve) => gzip.end(resolve))
    const bomb = Buffer.concat(compressed)
    expect(bomb.length).toBeLessThan(1024 * 1024)

    const server = await listen('127.0.0.1', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb)
    })
    const before = memory()
    const error = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toContain('1 MiB')
    expect(memory() - before).toBeLessThan(64 * 1024 * 1024)
  })

  it('a small gzip answer is decompressed and read normally', async () => {
    const server = await listen('127.0.0.1', (_request, response) => {
      const gzip = createGzip()
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      gzip.pipe(response)
      gzip.end(JSON.stringify({ value: 'ok' }))
    })
    expect((await sendJsonRequest({ url: server.origin, endpointName: 'E' })).body).toEqual({ value: 'ok' })
  })
})

describe('B10: failures that retrying cannot fix are final (retryable: false)', () => {
  let emulator: EntraEmulator
  beforeAll(async () => {
    emulator = await startEntraEmulator()
  })
  afterAll(async () => {
    await emulator.close()
  })

  // What undici's fetch throws: a TypeError whose cause (or the cause's cause) carries the code.
  const failingWith =
    (code: string, message = `getaddrinfo ${code} login.example.invalid`): FetchLike =>
    async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('outer'), { cause: Object.assign(new Error(message), { code }) }) })
    }

  it('a TLS certificate the runtime does not trust', async () => {
    // The emulator's certificate is not in the default trust store.
    const error = await failureOf(sendJsonRequest({ url: `${emulator.authorityHost}/x`, endpointName: 'E' }))
    expect(error).toMatchObject({ code: 'AZCRED_NETWORK_ERROR', retryable: false })
    expect(isTransient(error)).toBe(false)
    expect(error.message).toMatch(/\): (\w*CERT\w*|UNABLE_TO_\w+); not retried: check the URL and certificate$/)
  })

  it('an https: URL answered by plain HTTP', async () => {
    const plain = await listen('127.0.0.1', (_request, response) => response.end('{}'))
    const error = await failureOf(sendJsonRequest({ url: `https://127.0.0.1:${plain.port}/token`, endpointName: 'E' }))
    expect(error).toMatchObject({ code: 'AZCRED_NETWORK_ERROR', retryable: false })
    expect(error.message).toContain(`could not reach E at https://127.0.0.1:${plain.port} (sending the request): `)
    expect(error.message).toContain('not retried')
  })

  it.each([
    ['ENOTFOUND', false],
    ['EAI_NONAME', false],
    ['CERT_HAS_EXPIRED', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', false],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', false],
    ['SELF_SIGNED_CERT_IN_CHAIN', false],
    ['EAI_AGAIN', undefined],
    ['ECONNRESET', undefined],
    ['UND_ERR_SOCKET', undefined],
  ])('%s nested two causes deep: retryable %s', async (code, retryable) => {
    const error = await failureOf(sendJsonRequest({ url: 'https://login.example.invalid/t?x=1', endpointName: 'E' }, { fetch: failingWith(code) }))
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.retryable).toBe(retryable)
    expect(isTransient(error)).toBe(retryable !== false)
    expect(Object.hasOwn(error, 'retryable')).toBe(retryable !== undefined)
    expect(error.message).toBe(
      `could not reach E at https://login.example.invalid (sending the request): ${code}${retryable === false ? '; not retried: check the URL and certificate' : ''}`,
    )
  })

  it('an EPROTO whose message says "wrong version number" is final too', async () => {
    const error = await failureOf(
      sendJsonRequest(
        { url: 'https://127.0.0.1:1/', endpointName: 'E' },
        { fetch: failingWith('EPROTO', 'SSL routines:ssl3_get_record:wrong version number') },
      ),
    )
    expect(error).toMatchObject({ retryable: false })
    expect(error.message).toContain('EPROTO; not retried')
  })

  it('a refused connection stays retryable', async () => {
    const closed = await listen('127.0.0.1', () => {})
    await closed.close()
    const error = await failureOf(sendJsonRequest({ url: closed.origin, endpointName: 'E' }))
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.message).toContain('ECONNREFUSED')
    expect('retryable' in error).toBe(false)
    expect(isTransient(error)).toBe(true)
  })
})

describe('A1, B5: a custom fetch cannot follow a redirect or outlive timeoutMs', () => {
  // Wrappers users write: one rebuilds init and loses redirect: 'manual', one forces 'follow'.
  const wrappers: [string, FetchLike][] = [
    ['rebuilds init without redirect', (input, init) => fetch(input, { method: init.method, headers: init.headers, body: init.body, signal: init.signal })],
    ["forces redirect: 'follow'", (input, init) => fetch(input, { ...init, redirect: 'follow' })],
  ]

  it.each(wrappers.flatMap(([name, wrapper]) => [302, 307].map((status) => [name, status, wrapper] as const)))(
    'a fetch that %s and follows a %i: the answer is refused (retryable: false), naming the status and the final origin only',
    async (_name, status, wrapper) => {
      const target = await listen('127.0.0.2', (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'stolen', expires_in: 3600, token_type: 'Bearer' }))
      })
      const tokenServer = await listen('127.0.0.1', (_request, response) => {
        response.writeHead(status, { location: `${target.origin}/x/${PLANTED}?sig=${PLANTED}` }).end()
      })
      const error = await failureOf(tokenRequest(tokenServer.origin, wrapper))
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
      expect(error.message).toBe(`the Entra ID token endpoint answered HTTP 200 (redirect to ${target.origin}, options.fetch followed it): use the final URL`)
      expect(target.hits).toHaveLength(1) // the user's fetch went there; its answer was not taken
      expect(exposed(error)).not.toContain(PLANTED)
      expect(exposed(error)).not.toContain('stolen')
    },
  )

  it('a redirect the custom fetch followed within the same origin is refused too', async () => {
    const server = await listen('127.0.0.1', (request, response) => {
      if (request.url === '/token') response.writeHead(302, { location: '/elsewhere' }).end()
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"stolen","expires_in":3600}')
    })
    const error = await failureOf(sendJsonRequest({ url: `${server.origin}/token`, endpointName: 'E' }, { fetch: (wrappers[0] as [string, FetchLike])[1] }))
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
    expect(error.message).toContain(`HTTP 200 (redirect to ${server.origin}, options.fetch followed it)`)
  })

  it("an answer whose url has another origin is refused; the request's own origin (or no url, a test double) is read", async () => {
    const answer =
      (url: string): FetchLike =>
      async () => {
        const response = new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } })
        Object.defineProperty(response, 'url', { value: url })
        return response
      }
    for (const url of ['https://elsewhere.example.test/token', 'http://login.example.test/token', 'https://login.example.test:8443/token', 'not a url']) {
      const error = await failureOf(sendJsonRequest({ url: 'https://login.example.test/t/token', endpointName: 'E' }, { fetch: answer(url) }))
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
    }
    for (const url of ['https://login.example.test/t/token', 'https://LOGIN.example.test:443/other', '']) {
      const { body } = await sendJsonRequest({ url: 'https://login.example.test/t/token', endpointName: 'E' }, { fetch: answer(url) })
      expect(body).toEqual({ ok: true })
    }
  })

  /** A fetch that drops the signal, as some wrappers do. */
  const withoutSignal: FetchLike = (input, init) => fetch(input, { method: init.method, headers: init.headers, body: init.body, redirect: 'manual' })

  async function dripping() {
    let closed = false
    const server = await listen('127.0.0.1', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{')
      const drip = setInterval(() => response.write(' '), 50)
      response.on('close', () => {
        clearInterval(drip)
        closed = true
      })
    })
    return { server, isClosed: () => closed }
  }

  async function until(condition: () => boolean): Promise<boolean> {
    for (let waited = 0; waited < 3000 && !condition(); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
    return condition()
  }

  it('a fetch that ignores the signal, against a body dripping forever: AZCRED_TIMEOUT after timeoutMs, and the body is cancelled', async () => {
    const { server, isClosed } = await dripping()
    const error = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }, { fetch: withoutSignal, timeoutMs: 300 }))
    expect(error).toMatchObject({
      code: 'AZCRED_TIMEOUT',
      message: 'E did not answer within 300 ms (reading the answer); raise timeoutMs or check the endpoint',
    })
    expect(await until(isClosed)).toBe(true) // the connection was closed, not left dripping
  })

  it("the same fetch and body end with AZCRED_ABORTED when the caller's signal fires", async () => {
    const { server, isClosed } = await dripping()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const error = await failureOf(sendJsonRequest({ url: server.origin, endpointName: 'E' }, { fetch: withoutSignal, abortSignal: controller.signal }))
    expect(error.code).toBe('AZCRED_ABORTED')
    expect(await until(isClosed)).toBe(true)
  })

  it('a fetch whose promise never settles: AZCRED_TIMEOUT after timeoutMs, or AZCRED_ABORTED when the caller aborts', async () => {
    const never: FetchLike = () => new Promise(() => {})
    const timedOut = await failureOf(sendJsonRequest({ url: 'http://127.0.0.1:9/', endpointName: 'E' }, { fetch: never, timeoutMs: 50 }))
    expect(timedOut).toMatchObject({
      code: 'AZCRED_TIMEOUT',
      message: 'E did not answer within 50 ms (sending the request); raise timeoutMs or check the endpoint',
    })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const aborted = await failureOf(sendJsonRequest({ url: 'http://127.0.0.1:9/', endpointName: 'E' }, { fetch: never, abortSignal: controller.signal }))
    expect(aborted.code).toBe('AZCRED_ABORTED')
  })

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a plain object', { ok: true, status: 200 }],
    ['a status without headers', { ok: true, status: 200, body: null }],
    ['a string', 'HTTP/1.1 200 OK'],
  ])('a fetch that resolves to %s: AZCRED_CONFIG_INVALID naming options.fetch, never a bare TypeError', async (_, answer) => {
    const odd = (() => Promise.resolve(answer)) as unknown as FetchLike
    const error = await failureOf(sendJsonRequest({ url: 'http://127.0.0.1:9/', endpointName: 'E' }, { fetch: odd }))
    expect(error).toBeInstanceOf(AzcredError)
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: 'E: options.fetch resolved to something that is not a Response' })
  })
})
