import { TokenRequestError } from '@azcred/core'
import { describe, expect, it } from 'vitest'
import { readConstructorArguments } from './managed-identity-options'
import { isManagedIdentityRetryable, readManagedIdentityToken, scopeToResource, slowDownWhenGone } from './managed-identity-request'

const NOW = Date.parse('2026-11-22T10:00:00Z')
const IN_ONE_HOUR = NOW / 1000 + 3600

describe('readManagedIdentityToken: every host quirk', () => {
  it.each([
    ['IMDS / App Service: epoch seconds as a string', { expires_on: String(IN_ONE_HOUR) }],
    ['Service Fabric: epoch seconds as a number', { expires_on: IN_ONE_HOUR }],
    ['Azure ML / legacy App Service: a date string', { expires_on: '11/22/2026 11:00:00 AM +00:00' }],
    ['only expires_in, as a string', { expires_in: '3600' }],
    ['only expires_in, as a number', { expires_in: 3600 }],
  ])('%s', (_, fields) => {
    const token = readManagedIdentityToken({ access_token: 'ey.token', ...fields }, 'the test endpoint', NOW)
    expect(token).toEqual({ token: 'ey.token', expiresOnTimestamp: NOW + 3_600_000, tokenType: 'Bearer' })
  })

  it('refreshes day-long tokens at half their life, and honours refresh_in', () => {
    const day = readManagedIdentityToken({ access_token: 'a', expires_in: '86400' }, 'the test endpoint', NOW)
    expect(day.refreshAfterTimestamp).toBe(NOW + 43_200_000)
    const told = readManagedIdentityToken({ access_token: 'a', expires_in: 86400, refresh_in: 600 }, 'the test endpoint', NOW)
    expect(told.refreshAfterTimestamp).toBe(NOW + 600_000)
  })

  it('refuses an answer without a token or a readable expiry', () => {
    expect(() => readManagedIdentityToken({ expires_in: '3600' }, 'the test endpoint', NOW)).toThrow(
      expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringContaining('without an access_token') }),
    )
    expect(() => readManagedIdentityToken({ access_token: 'a', expires_on: 'soon' }, 'the test endpoint', NOW)).toThrow(
      expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringContaining('expires_on or expires_in') }),
    )
  })
})

describe('scopeToResource', () => {
  it('strips /.default and insists on one resource', () => {
    expect(scopeToResource(['https://vault.azure.net/.default'])).toBe('https://vault.azure.net')
    expect(scopeToResource(['api://my-api'])).toBe('api://my-api')
    expect(() => scopeToResource(['https://vault.azure.net/.default', 'https://storage.azure.com/.default'])).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('one resource at a time') }),
    )
  })
})

describe('retry rules', () => {
  it('retries 404, 410, 429, 5xx and network errors; a 400, 401 or 403 is final', () => {
    const status = (value: number) => new TokenRequestError('x', { status: value })
    expect([404, 408, 410, 429, 500, 503].map((value) => isManagedIdentityRetryable(status(value)))).toEqual([true, true, true, true, true, true])
    expect([400, 401, 403].map((value) => isManagedIdentityRetryable(status(value)))).toEqual([false, false, false])
  })

  it('waits at least goneDelayMs after a 410, and keeps a longer Retry-After', () => {
    expect(slowDownWhenGone(new TokenRequestError('gone', { status: 410 }), 10_000)).toMatchObject({ status: 410, retryAfterMs: 10_000 })
    expect(slowDownWhenGone(new TokenRequestError('gone', { status: 410, retryAfterMs: 20_000 }), 10_000)).toMatchObject({ retryAfterMs: 20_000 })
    expect(slowDownWhenGone(new TokenRequestError('busy', { status: 503 }), 10_000)).toMatchObject({ retryAfterMs: undefined })
  })
})

describe('constructor shapes', () => {
  it('reads (clientId, options), ({ clientId }), ({ objectId }), ({ resourceId }) and ()', () => {
    expect(readConstructorArguments('client', { timeoutMs: 5 }).identity).toEqual({ kind: 'clientId', value: 'client' })
    expect(readConstructorArguments('client', { timeoutMs: 5 }).options.timeoutMs).toBe(5)
    expect(readConstructorArguments({ objectId: 'object' }, undefined).identity).toEqual({ kind: 'objectId', value: 'object' })
    expect(readConstructorArguments({ resourceId: '/subscriptions/x' }, undefined).identity).toEqual({ kind: 'resourceId', value: '/subscriptions/x' })
    expect(readConstructorArguments(undefined, undefined).identity).toBeUndefined()
  })

  it('refuses two ids at once, or an empty one', () => {
    expect(() => readConstructorArguments({ clientId: 'a', resourceId: 'b' }, undefined)).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('clientId and resourceId are both set') }),
    )
    expect(() => readConstructorArguments(' ', undefined)).toThrow(expect.objectContaining({ message: expect.stringContaining('clientId is empty') }))
  })
})
