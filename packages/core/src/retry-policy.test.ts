import { describe, expect, it } from 'vitest'
import { AzcredError, TokenRequestError } from './azcred-error'
import { backoffDelay, DEFAULT_RETRY, isTransient } from './retry-policy'

describe('isTransient', () => {
  it('retries network errors, timeouts, 408, 429 and 5xx', () => {
    expect(isTransient(new AzcredError('AZCRED_NETWORK_ERROR', 'reset'))).toBe(true)
    expect(isTransient(new AzcredError('AZCRED_TIMEOUT', 'slow'))).toBe(true)
    for (const status of [408, 429, 500, 503]) expect(isTransient(new TokenRequestError('x', { status }))).toBe(true)
  })
  it('never retries refusals, aborts, foreign errors, or anything marked retryable: false', () => {
    for (const status of [400, 401, 403, 404]) expect(isTransient(new TokenRequestError('x', { status }))).toBe(false)
    expect(isTransient(new AzcredError('AZCRED_ABORTED', 'aborted'))).toBe(false)
    expect(isTransient(new AzcredError('AZCRED_CONFIG_INVALID', 'bad'))).toBe(false)
    expect(isTransient(new TypeError('fetch failed'))).toBe(false)
    // Contract C1: DNS "no such name", TLS certificate failures, redirects carry retryable: false.
    const final = (error: AzcredError) => Object.assign(error, { retryable: false })
    expect(isTransient(final(new AzcredError('AZCRED_NETWORK_ERROR', 'getaddrinfo ENOTFOUND')))).toBe(false)
    expect(isTransient(final(new AzcredError('AZCRED_TIMEOUT', 'x')))).toBe(false)
    expect(isTransient(final(new TokenRequestError('redirect', { status: 503 })))).toBe(false)
    expect(isTransient(Object.assign(new AzcredError('AZCRED_NETWORK_ERROR', 'reset'), { retryable: true }))).toBe(true)
  })
})

describe('backoffDelay', () => {
  const retry = { ...DEFAULT_RETRY, baseDelayMs: 1000, maxDelayMs: 8000 }
  it('waits between half the ceiling and the ceiling (equal jitter), the ceiling doubling up to maxDelayMs', () => {
    const ceilings = [1000, 2000, 4000, 8000, 8000]
    ceilings.forEach((ceiling, index) => {
      expect(backoffDelay(index + 1, retry, () => 0, undefined)).toBe(ceiling / 2)
      expect(backoffDelay(index + 1, retry, () => 0.999_999, undefined)).toBe(ceiling - 1)
    })
  })
  it("waits for the server's Retry-After when it asked for longer", () => {
    expect(backoffDelay(1, retry, () => 0, 5000)).toBe(5000)
    expect(backoffDelay(1, retry, () => 0, 10)).toBe(500)
  })
  it('gives a caller about 15 s by default', () => {
    expect(DEFAULT_RETRY.maxElapsedMs).toBe(15_000)
  })
})
