import { createRequire } from 'node:module'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AzcredError, systemErrorCode, TokenRequestError } from './azcred-error'

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
