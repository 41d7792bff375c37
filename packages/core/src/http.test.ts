import { createServer } from 'node:net'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { failureOf } from './__fixtures__/failure-of'
import { TokenRequestError } from './azcred-error'
import { requestEntraToken } from './entra-token'
import { MAX_RETRY_AFTER_MS, parseRetryAfter, sendJsonRequest } from './http'

let emulator: EntraEmulator
let app: { tenantId: string; clientId: string; clientSecret: string }

beforeAll(async () => {
  emulator = await startEntraEmulator()
  app = emulator.registerApp()
})
afterAll(async () => {
  await emulator.close()
})
beforeEach(() => {
  emulator.clearFaults()
})

function requestToken(overrides: { timeoutMs?: number; abortSignal?: AbortSignal } = {}) {
  return requestEntraToken({
    authorityHost: emulator.authorityHost,
    tenantId: app.tenantId,
    form: { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'https://vault.azure.net/.default' },
    fetch: emulator.fetch,
    ...overrides,
  })
}

describe('requestEntraToken', () => {
  it('returns the token with its expiry', async () => {
    const before = Date.now()
    const token = await requestToken()
    expect(token.token.split('.')).toHaveLength(3)
    expect(token.expiresOnTimestamp).toBeGreaterThanOrEqual(before + 3600_000)
    expect(token.expiresOnTimestamp).toBeLessThanOrEqual(Date.now() + 3600_000)
  })

  it('turns a 200 HTML page into AZCRED_RESPONSE_INVALID naming the status and content type', async () => {
    emulator.injectFault({ kind: 'html' })
    const error = await failureOf(requestToken())
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toContain('HTTP 200')
    expect(error.message).toContain('text/html')
  })

  it('turns a 502 HTML page into AZCRED_TOKEN_REQUEST_FAILED with the status', async () => {
    emulator.injectFault({ kind: 'html', status: 502 })
    const error = await failureOf(requestToken())
    expect(error).toBeInstanceOf(TokenRequestError)
    expect((error as TokenRequestError).status).toBe(502)
    expect(error.message).toBe('the Entra ID token endpoint answered HTTP 502 with text/html; charset=utf-8 (not a JSON error): the service or a proxy failed')
  })

  it('turns malformed JSON into AZCRED_RESPONSE_INVALID, not a parse crash', async () => {
    emulator.injectFault({ kind: 'malformed-json' })
    const error = await failureOf(requestToken())
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toContain('application/json')
    expect(error.message).not.toContain('eyJ0eXAi')
  })

  it('reads 429 with Retry-After into status and retryAfterMs', async () => {
    emulator.injectFault({ kind: 'status', status: 429, retryAfter: 7 })
    const error = (await failureOf(requestToken())) as TokenRequestError
    expect(error.status).toBe(429)
    expect(error.retryAfterMs).toBe(7000)
    expect(error.error).toBe('temporarily_unavailable')
  })

  it('times out with AZCRED_TIMEOUT', async () => {
    emulator.injectFault({ kind: 'delay', ms: 1_000 })
    const started = Date.now()
    const error = await failureOf(requestToken({ timeoutMs: 100 }))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(error.message).toContain('100 ms')
    expect(Date.now() - started).toBeLessThan(900)
  })

  it('ends with AZCRED_ABORTED when the caller aborts, and before sending when already aborted', async () => {
    emulator.injectFault({ kind: 'delay', ms: 1_000 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    expect((await failureOf(requestToken({ abortSignal: controller.signal }))).code).toBe('AZCRED_ABORTED')

    const sentBefore = emulator.requests.length
    expect((await failureOf(requestToken({ abortSignal: AbortSignal.abort() }))).code).toBe('AZCRED_ABORTED')
    expect(emulator.requests.length).toBe(sentBefore)
  })

  it('turns a reset connection into AZCRED_NETWORK_ERROR', async () => {
    // undici may replay a request once when a reused keep-alive socket is reset: reset them all.
    emulator.injectFault({ kind: 'reset' }, { count: 3 })
    const error = await failureOf(requestToken())
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.message).toContain('Entra ID token endpoint')
  })

  it('turns a closed port into AZCRED_NETWORK_ERROR naming the endpoint and its origin, without the path or query', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const error = await failureOf(sendJsonRequest({ url: `http://127.0.0.1:${port}/x?secret=planted`, endpointName: 'the test endpoint' }))
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.message).toContain(`the test endpoint at http://127.0.0.1:${port} (`)
    expect(error.message).not.toContain('/x')
    expect(error.message).toContain('ECONNREFUSED')
    expect(error.message).not.toContain('planted')
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z')

  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(' 1.5 ')).toBe(1500)
    expect(parseRetryAfter('0')).toBe(0)
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0) // a date in the past: retry now
  })

  it(`caps every value at MAX_RETRY_AFTER_MS (${MAX_RETRY_AFTER_MS} ms)`, () => {
    expect(MAX_RETRY_AFTER_MS).toBe(300_000)
    expect(parseRetryAfter('301')).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('99999999')).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('9'.repeat(400))).toBe(MAX_RETRY_AFTER_MS)
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(MAX_RETRY_AFTER_MS)
  })

  it.each(['garbage', '', ' ', '-5', '-1.5', 'NaN', 'Infinity', '1e400', '0x10', '5s', '3,5'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })

  it('ignores a missing header', () => {
    expect(parseRetryAfter(null)).toBeUndefined()
  })

  it('a 429 asking for 99999999 s carries the capped wait', async () => {
    emulator.injectFault({ kind: 'status', status: 429, retryAfter: 99_999_999 })
    const error = (await failureOf(requestToken())) as TokenRequestError
    expect(error.status).toBe(429)
    expect(error.retryAfterMs).toBe(MAX_RETRY_AFTER_MS)
  })
})
