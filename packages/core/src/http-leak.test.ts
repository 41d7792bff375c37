// A request's secrets (a header value such as managed identity's X-IDENTITY-HEADER, a URL query)
// never reach an error: header names and values are checked before fetch sees them (fetch's own
// TypeError quotes the value), and a thrown error's message, or the error itself, is never kept.
import { createServer } from 'node:http'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failureOf } from './__fixtures__/failure-of'
import { requestEntraToken } from './entra-token'
import { type FetchLike, sendJsonRequest } from './http'

const PLANTED = 'planted-Secret~value.7f3a9'

/** Everything a log or a bug report could show of an error. */
function exposed(error: unknown): string {
  return [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n')
}

let origin = ''
const hits: { url: string; headers: Record<string, unknown> }[] = []
const server = createServer((request, response) => {
  hits.push({ url: request.url ?? '', headers: request.headers })
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
})
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('header names and values are checked before anything is sent', () => {
  it.each([
    ['CR LF (a header injection)', '\r\nx-injected: 1'],
    ['LF', '\n'],
    ['CR', '\r'],
    ['NUL', '\0'],
    ['another C0 control character', '\u0001'],
    ['DEL', '\u007f'],
    ['a C1 control character', '\u0085'],
    ['a character beyond Latin-1', '\u0100'],
    ['a line separator', '\u2028'],
    ['an emoji', '\u{1f511}'],
  ])('a value with %s is AZCRED_CONFIG_INVALID naming the header only', async (_kind, bad) => {
    const before = hits.length
    const error = await failureOf(
      sendJsonRequest({
        url: `${origin}/msi/token`,
        headers: { accept: 'application/json', 'x-identity-header': `${PLANTED}${bad}${PLANTED}` },
        endpointName: 'E',
      }),
    )
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toBe('E: header x-identity-header has a line break, control or non-Latin-1 character: remove it')
    expect(exposed(error)).not.toContain(PLANTED)
    expect(hits.length).toBe(before)
  })

  it.each([
    ['a space', 'x identity'],
    ['a colon', 'x:identity'],
    ['a line break', 'x-identity\r\nx-injected'],
    ['nothing', ''],
  ])('a header name with %s is AZCRED_CONFIG_INVALID; nothing is sent', async (_kind, name) => {
    const before = hits.length
    const error = await failureOf(sendJsonRequest({ url: `${origin}/t`, headers: { [name]: PLANTED }, endpointName: 'E' }))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toContain('has a line break, control or non-Latin-1 character: remove it')
    expect(exposed(error)).not.toContain(PLANTED)
    expect(hits.length).toBe(before)
  })

  it('a custom fetch is not called either', async () => {
    let calls = 0
    const fetch: FetchLike = async () => {
      calls += 1
      return new Response('{}')
    }
    const error = await failureOf(sendJsonRequest({ url: `${origin}/t`, headers: { secret: `${PLANTED}\n` }, endpointName: 'E' }, { fetch }))
    expect(error.message).toContain('header secret has')
    expect(calls).toBe(0)
  })

  it('tabs, inner spaces and Latin-1 letters are sent as given', async () => {
    const response = await sendJsonRequest({ url: `${origin}/ok`, headers: { 'x-ms-test': 'a\tb c', 'x-latin': 'caf\u00e9' }, endpointName: 'E' })
    expect(response.body).toEqual({ ok: true })
    expect(hits.at(-1)?.headers['x-ms-test']).toBe('a\tb c')
    expect(Buffer.from(String(hits.at(-1)?.headers['x-latin']), 'latin1').toString('latin1')).toBe('caf\u00e9')
  })
})

describe('a thrown error is named by its code or class, never by its message', () => {
  const url = `https://identity.example.test/msi/token?resource=r&sig=${PLANTED}`
  const headers = { 'x-identity-header': PLANTED }

  // A transport that quotes the request everywhere it can: message, fields, nested causes.
  const quoting =
    (code?: string): FetchLike =>
    async (input, init) => {
      const quoted = `${input} ${JSON.stringify(init.headers)}`
      const system = Object.assign(new Error(`connect failed for ${quoted}`), { code, url: input, headers: init.headers, [Symbol('request')]: quoted })
      throw Object.assign(new TypeError(`fetch failed: ${quoted}`, { cause: system }), { input })
    }

  it('a code from the chain (ECONNREFUSED) is kept; the URL query and header are not', async () => {
    const error = await failureOf(sendJsonRequest({ url, headers, endpointName: 'E' }, { fetch: quoting('ECONNREFUSED') }))
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.message).toBe('could not reach E at https://identity.example.test (sending the request): ECONNREFUSED')
    expect(error.cause).toEqual({ name: 'TypeError', code: undefined, cause: { name: 'Error', code: 'ECONNREFUSED', cause: undefined } })
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it('without a code, only the class name', async () => {
    const error = await failureOf(sendJsonRequest({ url, headers, endpointName: 'E' }, { fetch: quoting() }))
    expect(error.message).toBe('could not reach E at https://identity.example.test (sending the request): TypeError')
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it.each([
    ['a thrown string', PLANTED],
    ['a thrown object with odd name and code', { name: `x ${PLANTED}`, code: `${PLANTED}!`, message: PLANTED }],
    ['a thrown null', null],
  ])('%s is an "unknown error"', async (_kind, thrown) => {
    const error = await failureOf(
      sendJsonRequest(
        { url, headers, endpointName: 'E' },
        {
          fetch: async () => {
            throw thrown
          },
        },
      ),
    )
    expect(error.message).toBe('could not reach E at https://identity.example.test (sending the request): unknown error')
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it('a failure while reading the answer is named the same way', async () => {
    const fetch: FetchLike = async () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            controller.error(Object.assign(new Error(`reset while reading ${url}`), { code: 'ECONNRESET' }))
          },
        }),
      )
    const error = await failureOf(sendJsonRequest({ url, headers, endpointName: 'E' }, { fetch }))
    expect(error.message).toBe('could not reach E at https://identity.example.test (reading the answer): ECONNRESET')
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it("the cause keeps each link's symbol-keyed boolean marks (a transport's own flags), nothing else", async () => {
    const mark = Symbol('pin-mismatch')
    const fetch: FetchLike = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error(PLANTED), { [mark]: true, [Symbol('data')]: PLANTED }) })
    }
    const error = await failureOf(sendJsonRequest({ url, headers, endpointName: 'E' }, { fetch }))
    const cause = (error.cause as { cause: Record<symbol, unknown> }).cause
    expect(cause[mark]).toBe(true)
    expect(Object.getOwnPropertySymbols(cause)).toEqual([mark])
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it("a real refused connection (Node's fetch) names ECONNREFUSED and leaves out the query", async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as { port: number }
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const error = await failureOf(sendJsonRequest({ url: `http://127.0.0.1:${port}/t?sig=${PLANTED}`, headers, endpointName: 'E' }))
    expect(error.message).toBe(`could not reach E at http://127.0.0.1:${port} (sending the request): ECONNREFUSED`)
    expect(exposed(error)).not.toContain(PLANTED)
  })
})

describe('a network error names the endpoint origin, never the path (issue 11 A3)', () => {
  // A client secret pasted as tenantId passes the tenant check when it is shaped like a domain.
  const TENANT_SHAPED_SECRET = 'q8x7Q-planted.Secret-7f3a9'

  it.each([
    ['a refused connection', 'ECONNREFUSED'],
    ['a certificate failure', 'CERT_HAS_EXPIRED'],
  ])('%s at the tenant path keeps the secret passed as tenantId out of the error', async (_kind, code) => {
    const fetch: FetchLike = async (input) => {
      throw new TypeError(`fetch failed: ${input}`, { cause: Object.assign(new Error(`${code} ${input}`), { code }) })
    }
    const error = await failureOf(
      requestEntraToken({ authorityHost: 'https://login.example.test', tenantId: TENANT_SHAPED_SECRET, form: { grant_type: 'client_credentials' }, fetch }),
    )
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.message).toMatch(/^could not reach the Entra ID token endpoint at https:\/\/login\.example\.test \(sending the request\): /)
    expect(exposed(error)).not.toContain(TENANT_SHAPED_SECRET)
    expect(exposed(error)).not.toContain('oauth2')
  })
})
