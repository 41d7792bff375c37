import { createRequire } from 'node:module'
import { inspect } from 'node:util'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type AnyAzcredError,
  AzcredError,
  type AzcredErrorCode,
  InteractionRequiredError,
  systemErrorCode,
  TokenRequestError,
  toInteractionRequired,
} from './azcred-error'
import type { TokenEvent } from './token-events'

describe('AzcredError', () => {
  it('carries a stable code, its class name, and a cause', () => {
    const cause = new Error('socket hang up')
    const error = new AzcredError('AZCRED_NETWORK_ERROR', 'could not reach the endpoint', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('AzcredError')
    expect(error.code).toBe('AZCRED_NETWORK_ERROR')
    expect(error.cause).toBe(cause)
    expect(JSON.parse(JSON.stringify(error))).toEqual({ name: 'AzcredError', code: 'AZCRED_NETWORK_ERROR', message: 'could not reach the endpoint' })
  })

  it('isInstance recognises errors from another installed copy (the CJS build) and refuses look-alikes', () => {
    const require = createRequire(import.meta.url)
    const otherCopy = require('../dist/index.cjs') as typeof import('./index')
    const foreign = new otherCopy.AzcredError('AZCRED_TIMEOUT', 'slow')
    expect(foreign).not.toBeInstanceOf(AzcredError)
    expect(AzcredError.isInstance(foreign)).toBe(true)
    expect(otherCopy.AzcredError.isInstance(new AzcredError('AZCRED_TIMEOUT', 'slow'))).toBe(true)
    expect(AzcredError.isInstance(Object.assign(new Error('x'), { code: 'AZCRED_TIMEOUT' }))).toBe(false)
    expect(AzcredError.isInstance(null)).toBe(false)
    expect(AzcredError.isInstance('AZCRED_TIMEOUT')).toBe(false)
  })

  it('TokenRequestError exposes the Entra fields and serialises them without stack or cause', () => {
    const error = new TokenRequestError('refused', {
      status: 401,
      error: 'invalid_client',
      errorCodes: [7000215, 1],
      traceId: 'trace',
      correlationId: 'correlation',
      retryAfterMs: 2000,
    })
    expect(error.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
    expect(error.name).toBe('TokenRequestError')
    expect(error.aadstsCode).toBe('AADSTS7000215')
    expect(AzcredError.isInstance(error)).toBe(true)
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'TokenRequestError',
      code: 'AZCRED_TOKEN_REQUEST_FAILED',
      message: 'refused',
      status: 401,
      error: 'invalid_client',
      errorCodes: [7000215, 1],
      aadstsCode: 'AADSTS7000215',
      traceId: 'trace',
      correlationId: 'correlation',
      retryAfterMs: 2000,
    })
    expect(inspect(error)).toContain('AZCRED_TOKEN_REQUEST_FAILED')
  })

  it('C1: retryable becomes an own property only when given', () => {
    const final = new AzcredError('AZCRED_NETWORK_ERROR', 'DNS', { retryable: false })
    expect(final.retryable).toBe(false)
    expect(Object.hasOwn(final, 'retryable')).toBe(true)
    expect(JSON.parse(JSON.stringify(final))).toEqual({ name: 'AzcredError', code: 'AZCRED_NETWORK_ERROR', message: 'DNS', retryable: false })
    expect(new AzcredError('AZCRED_NETWORK_ERROR', 'reset', { retryable: true }).retryable).toBe(true)
    const plain = new AzcredError('AZCRED_NETWORK_ERROR', 'reset', { cause: new Error('x') })
    expect('retryable' in plain).toBe(false)
    expect('retryable' in new AzcredError('AZCRED_TIMEOUT', 'slow')).toBe(false)
  })

  it('C5: an AZCRED_SOURCE_UNAVAILABLE error is named CredentialUnavailableError, every other code AzcredError', () => {
    const unavailable = new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'no IDENTITY_ENDPOINT here')
    expect(unavailable.name).toBe('CredentialUnavailableError')
    expect(unavailable.code).toBe('AZCRED_SOURCE_UNAVAILABLE')
    expect(unavailable).toBeInstanceOf(AzcredError)
    expect(AzcredError.isInstance(unavailable)).toBe(true)
    expect(String(unavailable)).toBe('CredentialUnavailableError: no IDENTITY_ENDPOINT here')
    for (const code of [
      'AZCRED_CONFIG_INVALID',
      'AZCRED_TOKEN_REQUEST_FAILED',
      'AZCRED_RESPONSE_INVALID',
      'AZCRED_NETWORK_ERROR',
      'AZCRED_TIMEOUT',
      'AZCRED_ABORTED',
    ] as const) {
      expect(new AzcredError(code, 'x').name).toBe('AzcredError')
    }
    expect(new TokenRequestError('x', { status: 400 }).name).toBe('TokenRequestError')
  })

  it('C5: the official ChainedTokenCredential moves past our unavailable error, and stops at any other', async () => {
    const { ChainedTokenCredential } = await import('@azure/identity')
    const calls: string[] = []
    const failing = (code: 'AZCRED_SOURCE_UNAVAILABLE' | 'AZCRED_CONFIG_INVALID') => ({
      getToken: async () => {
        calls.push(code)
        throw new AzcredError(code, `${code} here`)
      },
    })
    const second = {
      getToken: async () => {
        calls.push('second')
        return { token: 'second-token', expiresOnTimestamp: Date.now() + 3_600_000 }
      },
    }
    const token = await new ChainedTokenCredential(failing('AZCRED_SOURCE_UNAVAILABLE'), second).getToken('https://vault.azure.net/.default')
    expect(token?.token).toBe('second-token')
    expect(calls).toEqual(['AZCRED_SOURCE_UNAVAILABLE', 'second'])

    calls.length = 0
    await expect(new ChainedTokenCredential(failing('AZCRED_CONFIG_INVALID'), second).getToken('https://vault.azure.net/.default')).rejects.toThrow(
      /AZCRED_CONFIG_INVALID here/,
    )
    expect(calls).toEqual(['AZCRED_CONFIG_INVALID'])
  })
})

describe('systemErrorCode', () => {
  it('names a system code and nothing else', () => {
    expect(systemErrorCode(Object.assign(new Error('/secret/path'), { code: 'ENOENT' }))).toBe('ENOENT')
    expect(systemErrorCode({ code: 'ERR_INVALID_ARG_VALUE' })).toBe('ERR_INVALID_ARG_VALUE')
    for (const odd of [undefined, null, 'ENOENT', {}, { code: 5 }, { code: 'enoent' }, { code: 'ENOENT\nx' }, { code: `E${'A'.repeat(41)}` }]) {
      expect(systemErrorCode(odd)).toBeUndefined()
    }
  })
})

describe('toInteractionRequired', () => {
  const refusal = (error: string | undefined, errorCodes: number[], claims?: string) =>
    new TokenRequestError(`the Entra ID token endpoint refused the request (HTTP 400 ${error})`, {
      status: 400,
      error,
      errorCodes,
      traceId: '0a0b0c0d-0000-4000-8000-000000000001',
      correlationId: '0a0b0c0d-0000-4000-8000-000000000002',
      claims,
    })

  it.each([
    ['invalid_grant', [70008], /expired or was revoked: sign in again/],
    ['invalid_grant', [50173], /expired or was revoked: sign in again/],
    ['invalid_grant', [700082], /expired or was revoked: sign in again/],
    ['invalid_grant', [700084], /expired or was revoked: sign in again/],
    ['invalid_grant', [50132], /expired or was revoked: sign in again/],
    ['invalid_grant', [], /expired or was revoked: sign in again/],
    ['invalid_grant', [65001], /not consented to these scopes/],
    ['consent_required', [], /not consented to these scopes/],
    ['invalid_grant', [50076], /multi-factor authentication/],
    ['interaction_required', [50079], /multi-factor authentication/],
    ['interaction_required', [50078], /multi-factor authentication/],
    ['interaction_required', [50158], /multi-factor authentication/],
    ['interaction_required', [], /multi-factor authentication/],
    ['login_required', [], /sign in interactively/],
    ['invalid_request', [65001], /not consented/],
  ] as const)('%s %j becomes AZCRED_INTERACTION_REQUIRED', (error, codes, message) => {
    const original = refusal(error, [...codes])
    const converted = toInteractionRequired(original) as InteractionRequiredError
    expect(converted).toBeInstanceOf(InteractionRequiredError)
    expect(converted.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(converted.name).toBe('InteractionRequiredError')
    expect(converted.message).toMatch(message)
    expect(converted.message).toContain(`HTTP 400 ${error}`)
    expect(converted.errorCodes).toEqual(codes)
    expect(converted.aadstsCode).toBe(codes[0] === undefined ? undefined : `AADSTS${codes[0]}`)
    expect(converted.status).toBe(400)
    expect(converted.error).toBe(error)
    expect(converted.traceId).toBe('0a0b0c0d-0000-4000-8000-000000000001')
    expect(converted.cause).toBe(original)
    expect(AzcredError.isInstance(converted)).toBe(true)
  })

  it("keeps Entra's claims challenge, and serialises without stack or cause", () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}'
    const converted = toInteractionRequired(refusal('interaction_required', [50076], claims)) as InteractionRequiredError
    expect(converted.claims).toBe(claims)
    expect(converted.message).toMatch(/claims of this error/)
    const json = JSON.parse(JSON.stringify(converted))
    expect(json).toMatchObject({
      name: 'InteractionRequiredError',
      code: 'AZCRED_INTERACTION_REQUIRED',
      claims,
      errorCodes: [50076],
      aadstsCode: 'AADSTS50076',
    })
    expect(json.stack).toBeUndefined()
    expect(json.cause).toBeUndefined()
  })

  it('leaves everything else as it is: blocks, other refusals, other errors, and one already converted', () => {
    const untouched: unknown[] = [
      refusal('invalid_grant', [53003]), // blocked by Conditional Access: signing in cannot fix it
      refusal('interaction_required', [53003]),
      refusal('invalid_grant', [50057]),
      refusal('invalid_grant', [50053]),
      refusal('invalid_grant', [50105]),
      // On-behalf-of: the incoming user assertion is invalid, expired or for another audience (the API's caller's fault).
      refusal('invalid_grant', [50013]),
      refusal('invalid_grant', [50027]),
      refusal('invalid_grant', [500133]),
      refusal('invalid_grant', [500131]),
      refusal('invalid_grant', [500133, 70008]),
      refusal('invalid_client', [7000215]),
      refusal('unauthorized_client', [700016]),
      // The app's own credentials failed (wrong or expired secret, bad or expired assertion, no federated
      // match, no client authentication, app not found): whatever the OAuth error says, no sign-in fixes it.
      refusal('invalid_grant', [7000222]),
      refusal('invalid_grant', [7000215]),
      refusal('invalid_grant', [7000218]),
      refusal('invalid_grant', [700024]),
      refusal('invalid_grant', [700027]),
      refusal('invalid_grant', [70021]),
      refusal('invalid_grant', [700213]),
      refusal('interaction_required', [700016]),
      refusal('invalid_grant', [70008, 7000222]),
      refusal('invalid_client', []),
      refusal('invalid_client', [65001]),
      refusal('invalid_client', [50076]),
      refusal(undefined, []),
      new TokenRequestError('503', { status: 503 }),
      new AzcredError('AZCRED_NETWORK_ERROR', 'reset'),
      new AzcredError('AZCRED_AUTHENTICATION_CANCELLED', 'declined'),
      Object.assign(new Error('look-alike'), { code: 'AZCRED_TOKEN_REQUEST_FAILED', error: 'invalid_grant', errorCodes: [70008] }),
      'invalid_grant',
      undefined,
      null,
    ]
    for (const error of untouched) expect(toInteractionRequired(error)).toBe(error)
    const converted = toInteractionRequired(refusal('invalid_grant', [70008]))
    expect(toInteractionRequired(converted)).toBe(converted)
  })

  it('converts a refusal from another installed copy of azcred (the CJS build)', () => {
    const require = createRequire(import.meta.url)
    const otherCopy = require('../dist/index.cjs') as typeof import('./index')
    const foreign = new otherCopy.TokenRequestError('refused', { status: 400, error: 'invalid_grant', errorCodes: [70008] })
    expect((toInteractionRequired(foreign) as AzcredError).code).toBe('AZCRED_INTERACTION_REQUIRED')
  })

  it('an InteractionRequiredError made without an Entra answer has empty errorCodes and no aadstsCode', () => {
    const error = new InteractionRequiredError('no refresh token: sign in first (authenticate())')
    expect(error.errorCodes).toEqual([])
    expect(error.aadstsCode).toBeUndefined()
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'InteractionRequiredError',
      code: 'AZCRED_INTERACTION_REQUIRED',
      message: 'no refresh token: sign in first (authenticate())',
      errorCodes: [],
    })
  })

  it('no planted secret reaches the converted error, even in a refusal built with odd fields', () => {
    const planted = 'planted-refresh-token-0.AXYZ'
    const original = new TokenRequestError('refused', { status: 400, error: `invalid_grant ${planted}`, errorCodes: [70008] })
    const converted = toInteractionRequired(original) as InteractionRequiredError
    expect(converted.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(converted.error).toBeUndefined()
    for (const shown of [converted.message, JSON.stringify(converted), inspect(converted, { depth: 0 })]) expect(shown).not.toContain(planted)
    const keys = ['name', 'code', 'status', 'error', 'errorCodes', 'traceId', 'correlationId', 'claims', 'aadstsCode']
    for (const key of Object.keys(converted)) expect(keys).toContain(key)
  })
})

describe('errors narrow by code (types)', () => {
  it('isInstance then code narrows to the class with that code’s fields', () => {
    const caught: unknown = new TokenRequestError('x', { status: 401, errorCodes: [7000215] })
    if (AzcredError.isInstance(caught)) {
      expectTypeOf(caught).toEqualTypeOf<AnyAzcredError>()
      if (caught.code === 'AZCRED_TOKEN_REQUEST_FAILED') {
        expectTypeOf(caught).toEqualTypeOf<TokenRequestError>()
        expectTypeOf(caught.status).toEqualTypeOf<number>()
        expectTypeOf(caught.aadstsCode).toEqualTypeOf<string | undefined>()
        expect(caught.status).toBe(401)
      } else if (caught.code === 'AZCRED_INTERACTION_REQUIRED') {
        expectTypeOf(caught).toEqualTypeOf<InteractionRequiredError>()
        expectTypeOf(caught.claims).toEqualTypeOf<string | undefined>()
      } else {
        expectTypeOf(caught.code).toEqualTypeOf<Exclude<AzcredErrorCode, 'AZCRED_TOKEN_REQUEST_FAILED' | 'AZCRED_INTERACTION_REQUIRED'>>()
        // @ts-expect-error a plain code's error has no status
        void caught.status
      }
    }
    expectTypeOf(new AzcredError('AZCRED_TIMEOUT', 'slow')).toMatchTypeOf<AzcredError>()
    expectTypeOf<TokenRequestError['code']>().toEqualTypeOf<'AZCRED_TOKEN_REQUEST_FAILED'>()
    expectTypeOf<InteractionRequiredError['code']>().toEqualTypeOf<'AZCRED_INTERACTION_REQUIRED'>()
    expectTypeOf<AnyAzcredError['code']>().toEqualTypeOf<AzcredErrorCode>()
    // @ts-expect-error not a code
    new AzcredError('AZCRED_NO_SUCH_CODE', 'x')
  })

  it('event code fields are the code union, not string', () => {
    expectTypeOf<Extract<TokenEvent, { type: 'refresh-failed' }>['code']>().toEqualTypeOf<AzcredErrorCode | 'UNKNOWN'>()
    expectTypeOf<Extract<TokenEvent, { type: 'retry-scheduled' }>['code']>().toEqualTypeOf<AzcredErrorCode | 'UNKNOWN'>()
  })
})
