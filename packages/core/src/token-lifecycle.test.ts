import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AzcredError, TokenRequestError } from './azcred-error'
import type { AccessToken } from './token-credential'
import type { TokenEvent } from './token-events'
import { TokenLifecycle, type TokenLifecycleConfig, type TokenRequest } from './token-lifecycle'

const SCOPE = 'https://vault.azure.net/.default'
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const MINUTE = 60_000

type Step = { lifetimeMs?: number; refreshInMs?: number } | Error

/** A scripted flow: each call consumes the next step (the last one repeats), recording requests. */
function scriptedFlow(...steps: Step[]) {
  const requests: TokenRequest[] = []
  let issued = 0
  const fetchToken = async (request: TokenRequest): Promise<AccessToken> => {
    requests.push(request)
    const step = steps[Math.min(requests.length - 1, steps.length - 1)] ?? {}
    await Promise.resolve()
    if (step instanceof Error) throw step
    issued += 1
    const now = Date.now()
    const token: AccessToken = { token: `token-${issued}`, expiresOnTimestamp: now + (step.lifetimeMs ?? 60 * MINUTE) }
    if (step.refreshInMs !== undefined) token.refreshAfterTimestamp = now + step.refreshInMs
    return token
  }
  return { requests, fetchToken }
}

function lifecycle(fetchToken: TokenLifecycleConfig['fetchToken'], overrides: Partial<TokenLifecycleConfig> = {}) {
  const events: TokenEvent[] = []
  const engine = new TokenLifecycle({
    credentialName: 'TestCredential',
    tenantId: TENANT,
    fetchToken,
    random: () => 0,
    onEvent: (event) => events.push(event),
    ...overrides,
  })
  return { engine, events }
}

const unavailable = () => new TokenRequestError('the test endpoint answered HTTP 503', { status: 503 })
const throttled = (retryAfterMs: number) => new TokenRequestError('the test endpoint answered HTTP 429', { status: 429, retryAfterMs })
const invalidClient = () => new TokenRequestError('refused', { status: 401, error: 'invalid_client', errorCodes: [7000215] })

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-11-22T10:00:00Z') })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('cache and single-flight', () => {
  it('1,000 concurrent cold calls share one request and get the same token', async () => {
    const flow = scriptedFlow({})
    const { engine } = lifecycle(flow.fetchToken)
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => engine.getToken(SCOPE)))
    expect(flow.requests).toHaveLength(1)
    expect(new Set(tokens.map((token) => token.token))).toEqual(new Set(['token-1']))
  })

  it('a cache hit returns the same stored promise (nothing allocated) and makes no request', async () => {
    const flow = scriptedFlow({})
    const { engine } = lifecycle(flow.fetchToken)
    await engine.getToken(SCOPE)
    const first = engine.getToken(SCOPE)
    expect(engine.getToken(SCOPE)).toBe(first)
    expect(engine.getToken([SCOPE])).toBe(first)
    expect(engine.getToken(` ${SCOPE} `, {})).toBe(first)
    expect(flow.requests).toHaveLength(1)
  })

  it('a failed shared request rejects every waiter once, and the next call starts afresh', async () => {
    const flow = scriptedFlow(invalidClient(), {})
    const { engine } = lifecycle(flow.fetchToken)
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => engine.getToken(SCOPE)))
    expect(results.every((result) => result.status === 'rejected' && (result.reason as AzcredError).code === 'AZCRED_TOKEN_REQUEST_FAILED')).toBe(true)
    expect(flow.requests).toHaveLength(1)
    expect((await engine.getToken(SCOPE)).token).toBe('token-1')
    expect(flow.requests).toHaveLength(2)
  })

  it('keys by scopes (in any order), tenant and CAE', async () => {
    const flow = scriptedFlow({})
    const { engine } = lifecycle(flow.fetchToken, { additionallyAllowedTenants: ['*'] })
    await engine.getToken(['a/.default', 'b'])
    await engine.getToken(['b', 'a/.default'])
    expect(flow.requests).toHaveLength(1)
    await engine.getToken(SCOPE, { tenantId: '11111111-2222-3333-4444-555555555555' })
    await engine.getToken(SCOPE, { enableCae: true })
    await engine.getToken(SCOPE)
    expect(flow.requests.map((request) => [request.tenantId, request.enableCae])).toEqual([
      [TENANT, false],
      ['11111111-2222-3333-4444-555555555555', false],
      [TENANT, true],
      [TENANT, false],
    ])
  })
})

describe('proactive refresh', () => {
  it("refreshes at Entra's refresh_in in the background while callers keep the valid token", async () => {
    const flow = scriptedFlow({ refreshInMs: 30 * MINUTE }, {})
    const { engine, events } = lifecycle(flow.fetchToken)
    expect((await engine.getToken(SCOPE)).refreshAfterTimestamp).toBe(Date.now() + 30 * MINUTE)
    vi.advanceTimersByTime(29 * MINUTE)
    await engine.getToken(SCOPE)
    expect(flow.requests).toHaveLength(1)

    vi.advanceTimersByTime(2 * MINUTE)
    const during = await Promise.all(Array.from({ length: 20 }, () => engine.getToken(SCOPE)))
    expect(during.every((token) => token.token === 'token-1')).toBe(true)
    expect(flow.requests).toHaveLength(2) // one background refresh for twenty callers
    await vi.advanceTimersByTimeAsync(0)
    expect((await engine.getToken(SCOPE)).token).toBe('token-2')
    expect(events.map((event) => event.type)).toEqual(['acquired', 'refreshed'])
  })

  it('without refresh_in, refreshes 5 minutes plus a per-credential jitter before expiry', async () => {
    for (const [random, expectedBeforeExpiry] of [
      [0, 5 * MINUTE],
      [0.5, 10 * MINUTE],
      [0.999, 5 * MINUTE + 0.999 * 10 * MINUTE],
    ] as const) {
      const { engine } = lifecycle(scriptedFlow({}).fetchToken, { random: () => random })
      const token = await engine.getToken(SCOPE)
      expect(token.expiresOnTimestamp - (token.refreshAfterTimestamp ?? 0)).toBeCloseTo(expectedBeforeExpiry, -1)
    }
  })

  it('caps the jitter and the margin at half the lifetime of a short token', async () => {
    const { engine } = lifecycle(scriptedFlow({ lifetimeMs: 8 * MINUTE }).fetchToken, { random: () => 0.99 })
    const token = await engine.getToken(SCOPE)
    expect(token.expiresOnTimestamp - (token.refreshAfterTimestamp ?? 0)).toBe(4 * MINUTE)
  })

  it('spreads the refreshes of a fleet started together', async () => {
    const refreshTimes = new Set<number>()
    for (let instance = 0; instance < 20; instance += 1) {
      const { engine } = lifecycle(scriptedFlow({}).fetchToken, { random: Math.random })
      refreshTimes.add((await engine.getToken(SCOPE)).refreshAfterTimestamp ?? 0)
    }
    expect(refreshTimes.size).toBeGreaterThan(15)
    for (const time of refreshTimes) {
      expect(time).toBeGreaterThanOrEqual(Date.now() + 45 * MINUTE)
      expect(time).toBeLessThanOrEqual(Date.now() + 55 * MINUTE)
    }
  })

  it('never returns a token inside the clock-skew margin of its expiry', async () => {
    const flow = scriptedFlow({ lifetimeMs: 20_000 }, {})
    const { engine } = lifecycle(flow.fetchToken)
    expect((await engine.getToken(SCOPE)).token).toBe('token-1')
    expect((await engine.getToken(SCOPE)).token).toBe('token-2')
    expect(flow.requests).toHaveLength(2)
  })
})

describe('serve-while-valid', () => {
  it('keeps serving the valid token when a refresh fails, retries at most every 30 s, then surfaces the error after expiry', async () => {
    const flow = scriptedFlow({ refreshInMs: 30 * MINUTE }, unavailable())
    const { engine, events } = lifecycle(flow.fetchToken, { retry: { maxAttempts: 1 } })
    await engine.getToken(SCOPE)
    vi.advanceTimersByTime(31 * MINUTE)
    expect((await engine.getToken(SCOPE)).token).toBe('token-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(flow.requests).toHaveLength(2)
    const failed = events.find((event) => event.type === 'refresh-failed')
    expect(failed).toMatchObject({ type: 'refresh-failed', code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 503 })

    vi.advanceTimersByTime(20_000)
    expect((await engine.getToken(SCOPE)).token).toBe('token-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(flow.requests).toHaveLength(2) // inside the 30 s interval: no new attempt

    vi.advanceTimersByTime(11_000)
    expect((await engine.getToken(SCOPE)).token).toBe('token-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(flow.requests).toHaveLength(3)

    vi.advanceTimersByTime(30 * MINUTE)
    await expect(engine.getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 503 })
  })
})

describe('retry', () => {
  it('retries transient failures with full-jitter exponential backoff, then succeeds', async () => {
    const flow = scriptedFlow(unavailable(), unavailable(), unavailable(), {})
    const { engine, events } = lifecycle(flow.fetchToken, { random: () => 0.5, retry: { baseDelayMs: 1000 } })
    const pending = engine.getToken(SCOPE)
    await vi.runAllTimersAsync()
    expect((await pending).token).toBe('token-1')
    expect(flow.requests).toHaveLength(4)
    const delays = events.filter((event) => event.type === 'retry-scheduled').map((event) => (event as { delayMs: number }).delayMs)
    expect(delays).toEqual([500, 1000, 2000])
    expect(events.at(-1)).toMatchObject({ type: 'acquired', attempts: 4 })
  })

  it('stops after maxAttempts, and within maxElapsedMs', async () => {
    const always = scriptedFlow(unavailable())
    const attempts = lifecycle(always.fetchToken, { retry: { maxAttempts: 3, baseDelayMs: 10 } }).engine.getToken(SCOPE)
    attempts.catch(() => {})
    await vi.runAllTimersAsync()
    await expect(attempts).rejects.toMatchObject({ status: 503 })
    expect(always.requests).toHaveLength(3)

    const slow = scriptedFlow(unavailable())
    const budget = lifecycle(slow.fetchToken, { random: () => 0.99, retry: { maxAttempts: 100, baseDelayMs: 1000, maxElapsedMs: 5000 } }).engine.getToken(SCOPE)
    budget.catch(() => {})
    await vi.runAllTimersAsync()
    await expect(budget).rejects.toMatchObject({ status: 503 })
    expect(slow.requests.length).toBeLessThanOrEqual(4)
    expect(Date.now()).toBeLessThan(Date.parse('2026-11-22T10:00:00Z') + 5000)
  })

  it('does not retry configuration or credential errors', async () => {
    const flow = scriptedFlow(invalidClient())
    const { engine, events } = lifecycle(flow.fetchToken)
    await expect(engine.getToken(SCOPE)).rejects.toMatchObject({ aadstsCode: 'AADSTS7000215' })
    expect(flow.requests).toHaveLength(1)
    expect(events).toEqual([])
  })

  it('lets a flow choose what is retryable (managed identity retries 410)', async () => {
    const gone = () => new TokenRequestError('the test endpoint answered HTTP 410', { status: 410 })
    const flow = scriptedFlow(gone(), gone(), {})
    const isRetryable = (error: unknown) => (error as { status?: number }).status === 410
    const { engine } = lifecycle(flow.fetchToken, { isRetryable, retry: { baseDelayMs: 10 } })
    const pending = engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(100)
    await expect(pending).resolves.toMatchObject({ token: 'token-1' })
    expect(flow.requests).toHaveLength(3)
    const defaults = scriptedFlow(gone(), {})
    await expect(lifecycle(defaults.fetchToken).engine.getToken(SCOPE)).rejects.toMatchObject({ status: 410 })
    expect(defaults.requests).toHaveLength(1)
  })

  it('honours Retry-After and sends nothing to a throttled endpoint before it', async () => {
    const flow = scriptedFlow(throttled(5000), {})
    const { engine, events } = lifecycle(flow.fetchToken, { random: () => 0 })
    const pending = engine.getToken(SCOPE)
    await vi.advanceTimersByTimeAsync(4900)
    expect(flow.requests).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(200)
    expect((await pending).token).toBe('token-1')
    expect(flow.requests).toHaveLength(2)
    expect(events.map((event) => event.type)).toEqual(['throttled', 'retry-scheduled', 'acquired'])
  })

  it('remembers a 429 across calls: nothing is sent before its Retry-After', async () => {
    const flow = scriptedFlow(throttled(10_000), {})
    const { engine } = lifecycle(flow.fetchToken, { retry: { maxElapsedMs: 1000 } })
    await expect(engine.getToken(SCOPE)).rejects.toMatchObject({ status: 429 }) // waiting 10 s exceeds the 1 s budget
    vi.advanceTimersByTime(8000)
    await expect(engine.getToken(SCOPE)).rejects.toMatchObject({ status: 429 }) // 2 s still to wait, over budget: refused unsent
    expect(flow.requests).toHaveLength(1)
    vi.advanceTimersByTime(2001)
    expect((await engine.getToken(SCOPE)).token).toBe('token-1')
    expect(flow.requests).toHaveLength(2)
  })
})

describe('claims, abort and events', () => {
  it('a claims challenge bypasses the cache and its token replaces the entry', async () => {
    const flow = scriptedFlow({})
    const { engine } = lifecycle(flow.fetchToken)
    await engine.getToken(SCOPE)
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'
    expect((await engine.getToken(SCOPE, { claims })).token).toBe('token-2')
    expect(flow.requests[1]?.claims).toBe(claims)
    expect((await engine.getToken(SCOPE)).token).toBe('token-2')
    expect(flow.requests).toHaveLength(2)
  })

  it("a caller's abort ends only that caller's wait", async () => {
    vi.useRealTimers()
    let release: (() => void) | undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let requests = 0
    const { engine } = lifecycle(async () => {
      requests += 1
      await gate
      return { token: 'shared', expiresOnTimestamp: Date.now() + 60 * MINUTE }
    })
    const controller = new AbortController()
    const aborted = engine.getToken(SCOPE, { abortSignal: controller.signal })
    const patient = engine.getToken(SCOPE)
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    release?.()
    expect((await patient).token).toBe('shared')
    expect(requests).toBe(1)
    await expect(engine.getToken(SCOPE, { abortSignal: AbortSignal.abort() })).resolves.toMatchObject({ token: 'shared' })
  })

  it('events carry timings and codes, never a token, and a throwing listener changes nothing', async () => {
    const secretToken = 'eyJ.planted-access-token.sig'
    const events: TokenEvent[] = []
    const engine = new TokenLifecycle({
      credentialName: 'TestCredential',
      tenantId: TENANT,
      random: () => 0,
      retry: { baseDelayMs: 1 },
      onEvent: (event) => {
        events.push(event)
        throw new Error('listener bug')
      },
      fetchToken: scriptedFlow(throttled(1), { refreshInMs: MINUTE }).fetchToken,
    })
    const first = engine.getToken(SCOPE)
    await vi.runAllTimersAsync()
    await first
    const engineWithSecret = new TokenLifecycle({
      credentialName: 'TestCredential',
      tenantId: TENANT,
      onEvent: (event) => events.push(event),
      fetchToken: async () => ({ token: secretToken, expiresOnTimestamp: Date.now() + 60 * MINUTE }),
    })
    await engineWithSecret.getToken(SCOPE)
    expect(events.map((event) => event.type)).toEqual(['throttled', 'retry-scheduled', 'acquired', 'acquired'])
    expect(events[2]).toMatchObject({ credential: 'TestCredential', scopes: [SCOPE], tenantId: TENANT, attempts: 2 })
    const serialised = JSON.stringify(events)
    expect(serialised).not.toContain('planted-access-token')
    expect(serialised).not.toContain('token-1')
  })

  it('refuses bad scopes and disallowed tenants with AZCRED_CONFIG_INVALID, without a request', async () => {
    const flow = scriptedFlow({})
    const { engine } = lifecycle(flow.fetchToken)
    await expect(engine.getToken([])).rejects.toBeInstanceOf(AzcredError)
    await expect(engine.getToken(SCOPE, { tenantId: 'other.onmicrosoft.com' })).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(flow.requests).toHaveLength(0)
  })
})
