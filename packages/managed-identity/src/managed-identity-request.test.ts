import { inspect } from 'node:util'
import { AzcredError, MAX_TOKEN_LIFETIME_MS, TokenRequestError } from '@azcred/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import { ManagedIdentityCredential } from './index.node'
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
      expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringContaining('access_token') }),
    )
    expect(() => readManagedIdentityToken({ access_token: 'a', expires_on: 'soon' }, 'the test endpoint', NOW)).toThrow(
      expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringMatching(/expires_in or expires_on/) }),
    )
  })
})

describe('readManagedIdentityToken: lifetimes (issue 11 B6), one rule with core after the formats are read', () => {
  const read = (fields: Record<string, unknown>) => () => readManagedIdentityToken({ access_token: 'ey.token', ...fields }, 'the test endpoint', NOW)

  it.each([
    ['expires_on in the past, epoch seconds', { expires_on: NOW / 1000 - 60 }],
    ['expires_on in the past, numeric string', { expires_on: String(NOW / 1000 - 60) }],
    ['expires_on in the past, date string', { expires_on: '11/22/2026 09:00:00 AM +00:00' }],
    ['expires_on now', { expires_on: NOW / 1000 }],
    ['expires_on 0', { expires_on: 0 }],
    ['expires_on negative', { expires_on: -5 }],
    ['expires_on NaN and no expires_in', { expires_on: Number.NaN }],
    ['expires_on an empty string', { expires_on: '' }],
    ['expires_on a word', { expires_on: 'soon' }],
    ['expires_on an object', { expires_on: { at: 1 } }],
    ['nothing', {}],
    ['only expires_in 0', { expires_in: 0 }],
    ['only expires_in negative', { expires_in: '-3600' }],
    ['only expires_in NaN', { expires_in: 'NaN' }],
  ])('%s is AZCRED_RESPONSE_INVALID, never a token that is already expired', (_, fields) => {
    expect(read(fields)).toThrow(expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID' }))
  })

  it.each([
    ['expires_on in milliseconds, two days ahead', { expires_on: NOW + 2 * 86_400_000 }],
    ['expires_on in milliseconds, as a string', { expires_on: String(NOW + 2 * 86_400_000) }],
    ['expires_on far in the future', { expires_on: 5e10 }],
    ['expires_on a date in 2999', { expires_on: '01/01/2999 10:00:00 AM +00:00' }],
    ['expires_in 1e12', { expires_in: 1e12 }],
  ])('%s is capped at MAX_TOKEN_LIFETIME_MS (24 h)', (_, fields) => {
    expect(read(fields)().expiresOnTimestamp).toBe(NOW + MAX_TOKEN_LIFETIME_MS)
  })

  it.each([
    ['an hour ahead', NOW + 3_600_000, NOW + 3_600_000],
    ['as a string', String(NOW + 3_600_000), NOW + 3_600_000],
  ])('expires_on in milliseconds (%s) is read as milliseconds', (_, expiresOn, expected) => {
    expect(read({ expires_on: expiresOn })().expiresOnTimestamp).toBe(expected)
  })

  it.each([NOW - 60_000, String(NOW - 3_600_000), 1e12])('expires_on %s in milliseconds and past is AZCRED_RESPONSE_INVALID', (expiresOn) => {
    expect(read({ expires_on: expiresOn })).toThrow(expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID' }))
  })

  it('an expires_on in the past is not rescued by a positive expires_in', () => {
    expect(read({ expires_on: String(NOW / 1000 - 60), expires_in: '3600' })).toThrow(expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID' }))
  })

  it.each([
    ['0', 0],
    ['negative', -10],
    ['beyond the lifetime', 7200],
    ['equal to the lifetime', 3600],
    ['NaN', 'NaN'],
  ])('refresh_in %s is ignored (no refresh time from it)', (_, refreshIn) => {
    expect(read({ expires_in: 3600, refresh_in: refreshIn })().refreshAfterTimestamp).toBeUndefined()
    // A day-long token then keeps MSAL's half-life refresh instead.
    expect(read({ expires_in: 86_400, refresh_in: refreshIn === 7200 || refreshIn === 3600 ? 90_000 : refreshIn })().refreshAfterTimestamp).toBe(
      NOW + 43_200_000,
    )
  })

  it('refuses a token_type other than Bearer, and a token that is not printable ASCII', () => {
    expect(read({ expires_in: 3600, token_type: 'pop' })).toThrow(expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID' }))
    expect(() => readManagedIdentityToken({ access_token: 'ey\ntoken', expires_in: 3600 }, 'e', NOW)).toThrow(
      expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID' }),
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

  it('an error marked retryable: false is final, whatever its status or code (DNS, TLS, redirect)', () => {
    const final = (error: AzcredError | TokenRequestError) => Object.assign(error, { retryable: false })
    expect(isManagedIdentityRetryable(final(new TokenRequestError('gone', { status: 410 })))).toBe(false)
    expect(isManagedIdentityRetryable(final(new TokenRequestError('missing', { status: 404 })))).toBe(false)
    expect(isManagedIdentityRetryable(final(new TokenRequestError('busy', { status: 503 })))).toBe(false)
    expect(isManagedIdentityRetryable(final(new AzcredError('AZCRED_NETWORK_ERROR', 'ENOTFOUND')))).toBe(false)
    expect(isManagedIdentityRetryable(new AzcredError('AZCRED_NETWORK_ERROR', 'ECONNRESET'))).toBe(true)
    // The documented 410 handling stays.
    expect(isManagedIdentityRetryable(new TokenRequestError('gone', { status: 410 }))).toBe(true)
  })

  it('waits at least goneDelayMs after a 410, and keeps a longer Retry-After', () => {
    expect(slowDownWhenGone(new TokenRequestError('gone', { status: 410 }), 10_000)).toMatchObject({ status: 410, retryAfterMs: 10_000 })
    expect(slowDownWhenGone(new TokenRequestError('gone', { status: 410, retryAfterMs: 20_000 }), 10_000)).toMatchObject({ retryAfterMs: 20_000 })
    expect((slowDownWhenGone(new TokenRequestError('busy', { status: 503 }), 10_000) as TokenRequestError).retryAfterMs).toBeUndefined()
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

describe('options are validated at construction (issue 11 B7)', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  const badNumbers = [Number.POSITIVE_INFINITY, Number.NaN, 1e10, 0, -1, '1000', null]
  const construct = (options: unknown) => () => new ManagedIdentityCredential(options as never)
  const rejects = (options: unknown, name: string) =>
    expect(construct(options)).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(name) }))

  it.each(badNumbers)('timeoutMs %s', (value) => rejects({ timeoutMs: value }, 'options.timeoutMs'))
  it.each(badNumbers)('probe.timeoutMs %s', (value) => rejects({ probe: { timeoutMs: value } }, 'options.probe.timeoutMs'))
  it.each([Number.POSITIVE_INFINITY, Number.NaN, 1e10, -1, '5'])('retry.goneDelayMs %s', (value) =>
    rejects({ retry: { goneDelayMs: value } }, 'options.retry.goneDelayMs'),
  )
  // The lifecycle numbers are checked by core's TokenLifecycle, with one rule for every credential.
  it.each([Number.POSITIVE_INFINITY, Number.NaN, 1e10, 0, -1, 101, '3'])('retry.maxAttempts %s', (value) =>
    rejects({ retry: { maxAttempts: value } }, 'retry.maxAttempts'),
  )
  it.each([Number.POSITIVE_INFINITY, Number.NaN, 1e10, -1])('retry.maxElapsedMs, baseDelayMs, maxDelayMs, refresh.marginMs %s', (value) => {
    for (const name of ['maxElapsedMs', 'baseDelayMs', 'maxDelayMs']) rejects({ retry: { [name]: value } }, `retry.${name}`)
    rejects({ refresh: { marginMs: value } }, 'refresh.marginMs')
  })

  it('accepts the ordinary values, and 0 for a delay', () => {
    expect(
      construct({ timeoutMs: 5000, probe: { timeoutMs: 1000 }, retry: { maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 0, goneDelayMs: 0 } }),
    ).not.toThrow()
    expect(construct({ probe: true })).not.toThrow()
    expect(construct(undefined)).not.toThrow()
  })

  it.each([
    ['options a number', 42, 'options must be an object'],
    ['options an array', [], 'options must be an object'],
    ['clientId a number', { clientId: 42 }, 'options.clientId must be a string'],
    ['objectId an object', { objectId: {} }, 'options.objectId must be a string'],
    ['endpoint a number', { endpoint: 8080 }, 'options.endpoint must be a string'],
    ['fetch a string', { fetch: 'fetch' }, 'options.fetch must be a function'],
    ['onEvent an object', { onEvent: {} }, 'options.onEvent must be a function'],
    ['probe a string', { probe: 'yes' }, 'options.probe must be an object'],
    ['retry a number', { retry: 3 }, 'options.retry must be an object'],
    ['arcKeyDirectory a number', { arcKeyDirectory: 1 }, 'options.arcKeyDirectory must be a string'],
  ])('%s is AZCRED_CONFIG_INVALID, not a TypeError', (_, options, message) => rejects(options, message))

  it('(clientId, options) with options of the wrong type too', () => {
    expect(() => new ManagedIdentityCredential('client', 7 as never)).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
  })

  const withPassword = 'http://admin:planted-password@127.0.0.1:1'
  it.each([
    ['options.endpoint', {}, { endpoint: withPassword }],
    ['IMDS_ENDPOINT', { IMDS_ENDPOINT: withPassword }, {}],
    ['AZURE_POD_IDENTITY_AUTHORITY_HOST', { AZURE_POD_IDENTITY_AUTHORITY_HOST: withPassword }, {}],
    ['IDENTITY_ENDPOINT', { IDENTITY_ENDPOINT: `${withPassword}/msi/token`, IDENTITY_HEADER: 'h' }, {}],
    ['MSI_ENDPOINT', { MSI_ENDPOINT: `${withPassword}/MSI/auth`, MSI_SECRET: 's' }, {}],
    ['MSI_ENDPOINT of Cloud Shell, not a URL', { MSI_ENDPOINT: 'planted-password' }, {}],
  ])('%s with user:password@ (or not a URL) is AZCRED_CONFIG_INVALID and never echoes the password', (name, env, options) => {
    hostEnvironment(env as Record<string, string>)
    let failure: unknown
    try {
      new ManagedIdentityCredential(options)
    } catch (error) {
      failure = error
    }
    expect(failure).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(`${name.split(' ')[0]} must be an http(s) URL`) })
    const seen = [String(failure), (failure as Error).stack, JSON.stringify(failure), inspect(failure, { depth: 10 })].join('\n')
    expect(seen).not.toContain('planted-password')
  })
})
