import { inspect } from 'node:util'
import {
  type AuthenticationRecord as OfficialRecord,
  deserializeAuthenticationRecord as officialDeserialize,
  serializeAuthenticationRecord as officialSerialize,
} from '@azure/identity'
import { describe, expect, it } from 'vitest'
import {
  type AuthenticationRecord,
  deserializeAuthenticationRecord,
  MAX_AUTHENTICATION_RECORD_LENGTH,
  serializeAuthenticationRecord,
} from './authentication-record'
import { AzcredError } from './azcred-error'

const RECORD: AuthenticationRecord = {
  authority: 'login.microsoftonline.com',
  homeAccountId: '6f0d7a3e-0000-4c2b-9d1e-2b1c3a4d5e6f.72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  username: 'ada@contoso.example',
}
const PLANTED = 'planted-Refresh~token.0AAA9f'

function failure(run: () => unknown): AzcredError {
  try {
    run()
  } catch (error) {
    if (AzcredError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected an AzcredError')
}
const exposed = (error: unknown) => [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 5 })].join('\n')

describe('AuthenticationRecord serialisation', () => {
  it('writes versioned JSON with exactly the five fields, as @azure/identity does', () => {
    const text = serializeAuthenticationRecord({ ...RECORD, secret: PLANTED } as AuthenticationRecord)
    expect(JSON.parse(text)).toEqual({ ...RECORD, version: '1.0' })
    expect(text).not.toContain(PLANTED)
    expect(deserializeAuthenticationRecord(text)).toEqual(RECORD)
  })

  it('round-trips with @azure/identity in both directions', () => {
    // Ours, read by the official library.
    expect(officialDeserialize(serializeAuthenticationRecord(RECORD))).toEqual({ ...RECORD, version: '1.0' })
    // The official library's (it adds version 1.0 when it makes a record; serialize writes what it is given).
    const official = officialSerialize({ ...RECORD, version: '1.0' } as OfficialRecord)
    expect(deserializeAuthenticationRecord(official)).toEqual(RECORD)
    // A record without version is read by both.
    expect(deserializeAuthenticationRecord(officialSerialize(RECORD))).toEqual(RECORD)
    // Other properties are ignored, and not carried over.
    expect(deserializeAuthenticationRecord(JSON.stringify({ ...RECORD, version: '1.0', extra: PLANTED }))).toEqual(RECORD)
  })

  it('accepts an emulator authority with a port, a tenant path, a B2C account, an empty and a non-ASCII username', () => {
    const record = {
      ...RECORD,
      authority: '127.0.0.1:49152',
      homeAccountId: '6f0d7a3e-0000-4c2b-9d1e-2b1c3a4d5e6f-b2c_1_susi.72f988bf-86f1-41af-91ab-2d7cd011db47',
      username: '',
    }
    expect(deserializeAuthenticationRecord(serializeAuthenticationRecord(record))).toEqual(record)
    const other = { ...RECORD, authority: 'login.microsoftonline.com/contoso.onmicrosoft.com', tenantId: 'organizations', username: 'zoë@contoso.example' }
    expect(deserializeAuthenticationRecord(serializeAuthenticationRecord(other))).toEqual(other)
  })

  it.each([
    ['not JSON', '{"authority":'],
    ['JSON null', 'null'],
    ['a JSON array', JSON.stringify([RECORD])],
    ['a JSON string', JSON.stringify(PLANTED)],
    ['over the size limit', JSON.stringify({ ...RECORD, pad: 'x'.repeat(MAX_AUTHENTICATION_RECORD_LENGTH) })],
  ])('%s is AZCRED_CONFIG_INVALID', (_kind, text) => {
    const error = failure(() => deserializeAuthenticationRecord(text))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/^authenticationRecord /)
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it('a non-string is AZCRED_CONFIG_INVALID, not a TypeError', () => {
    for (const value of [undefined, null, 5, RECORD]) {
      expect(failure(() => deserializeAuthenticationRecord(value as unknown as string)).code).toBe('AZCRED_CONFIG_INVALID')
    }
  })

  it.each(['2.0', 1, '1', null, ''])('version %j is refused (only "1.0" or none)', (version) => {
    const error = failure(() => deserializeAuthenticationRecord(JSON.stringify({ ...RECORD, version })))
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: 'authenticationRecord.version must be "1.0" (the only version there is)' })
  })

  it.each([
    ['authority', `https://login.microsoftonline.com`],
    ['authority', `login.microsoftonline.com/${PLANTED}/x`],
    ['authority', ''],
    ['homeAccountId', PLANTED],
    ['homeAccountId', '6f0d7a3e.72f988bf.extra'],
    ['homeAccountId', '6f0d7a3e.'],
    ['homeAccountId', `${'u'.repeat(161)}.72f988bf`],
    ['clientId', ''],
    ['clientId', `${PLANTED} x`],
    ['clientId', 'c'.repeat(257)],
    ['tenantId', `${PLANTED}/..`],
    ['tenantId', ''],
    ['username', `ada@contoso.example\n${PLANTED}`],
    ['username', `ada\u202e${PLANTED}`],
    ['username', 'a'.repeat(257)],
    ['username', 'ada\uD800'],
    ['username', '\uDC00ada'],
    ['username', 42],
    ['clientId', undefined],
    ['tenantId', { value: PLANTED }],
  ] as Array<[keyof AuthenticationRecord, unknown]>)('%s = %j is AZCRED_CONFIG_INVALID naming the field, never the value', (field, value) => {
    const text = JSON.stringify({ ...RECORD, [field]: value, version: '1.0' })
    const error = failure(() => deserializeAuthenticationRecord(text))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(new RegExp(`^authenticationRecord\\.${field} must be `))
    expect(exposed(error)).not.toContain(PLANTED)
    // What could not be read back is not written either.
    const written = failure(() => serializeAuthenticationRecord({ ...RECORD, [field]: value } as AuthenticationRecord))
    expect(written.message).toBe(error.message)
  })

  it('a record whose field getter throws (or a Proxy) is AZCRED_CONFIG_INVALID naming the field, never the getter’s error', () => {
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('planted-secret-in-getter')
        },
      },
    ) as AuthenticationRecord
    const error = failure(() => serializeAuthenticationRecord(throwing))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/^authenticationRecord\.authority must be /)
    expect(`${error.message}${String(error.cause)}`).not.toContain('planted-secret-in-getter')
  })

  it('serialising a non-object is AZCRED_CONFIG_INVALID', () => {
    expect(failure(() => serializeAuthenticationRecord(null as unknown as AuthenticationRecord)).message).toBe(
      'authenticationRecord must be an object (the result of authenticate())',
    )
  })
})
