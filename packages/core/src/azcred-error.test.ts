import { createRequire } from 'node:module'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AzcredError, TokenRequestError } from './azcred-error'

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
})
