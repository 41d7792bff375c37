import { inspect } from 'node:util'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AzcredError } from './azcred-error'
import {
  MAX_ACCESS_TOKEN_LENGTH,
  MAX_TOKEN_LIFETIME_MS,
  MIN_TOKEN_LIFETIME_MS,
  requestClientCredentialsToken,
  toAccessToken,
  tokenRequestClaims,
} from './entra-token'
import type { TokenRequest } from './token-lifecycle'

const NOW = Date.parse('2026-06-01T12:00:00Z')
const PLANTED = 'eyJplanted.Token-value_7f3a9'

function refusalOf(body: Record<string, unknown>): AzcredError {
  try {
    toAccessToken(body, 'E', NOW)
  } catch (error) {
    if (AzcredError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected toAccessToken to throw')
}

function exposed(error: unknown): string {
  return [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 5 })].join('\n')
}

describe('toAccessToken (B6, contract C4)', () => {
  it('reads a normal answer', () => {
    expect(toAccessToken({ access_token: PLANTED, token_type: 'Bearer', expires_in: 3599 }, 'E', NOW)).toEqual({
      token: PLANTED,
      expiresOnTimestamp: NOW + 3_599_000,
      tokenType: 'Bearer',
    })
    expect(toAccessToken({ access_token: PLANTED, expires_in: '3599', token_type: 'bearer' }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 3_599_000)
    // Managed identity style: expires_on in epoch seconds, as a string.
    expect(toAccessToken({ access_token: PLANTED, expires_on: String(NOW / 1000 + 600), token_type: 'BEARER' }, 'E', NOW).expiresOnTimestamp).toBe(
      NOW + 600_000,
    )
  })

  it.each([0, -1, -3600, '0', '-5', 'abc', '', '  ', 'NaN', true, null, [], {}, Number.NaN])('refuses expires_in %j (no expires_on)', (expiresIn) => {
    const error = refusalOf({ access_token: PLANTED, expires_in: expiresIn })
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toBe('E answered a missing or invalid expires_in or expires_on (at least 60 s): check the URL')
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it('refuses a missing lifetime and an expires_on that has passed', () => {
    expect(refusalOf({ access_token: PLANTED }).code).toBe('AZCRED_RESPONSE_INVALID')
    expect(refusalOf({ access_token: PLANTED, expires_on: NOW / 1000 - 1 }).code).toBe('AZCRED_RESPONSE_INVALID')
    expect(refusalOf({ access_token: PLANTED, expires_on: NOW / 1000 }).code).toBe('AZCRED_RESPONSE_INVALID')
    expect(refusalOf({ access_token: PLANTED, expires_on: '11/22/2026 10:00:00 PM +00:00' }).code).toBe('AZCRED_RESPONSE_INVALID')
    // An expires_in that is present but broken is not rescued by expires_on.
    expect(refusalOf({ access_token: PLANTED, expires_in: 0, expires_on: NOW / 1000 + 600 }).code).toBe('AZCRED_RESPONSE_INVALID')
  })

  it(`caps an absurd lifetime at MAX_TOKEN_LIFETIME_MS (24 h)`, () => {
    expect(MAX_TOKEN_LIFETIME_MS).toBe(24 * 3_600_000)
    const capped = NOW + MAX_TOKEN_LIFETIME_MS
    expect(toAccessToken({ access_token: PLANTED, expires_in: 1e12 }, 'E', NOW).expiresOnTimestamp).toBe(capped)
    // What JSON.parse makes of 1e400.
    expect(toAccessToken({ access_token: PLANTED, expires_in: Number.POSITIVE_INFINITY }, 'E', NOW).expiresOnTimestamp).toBe(capped)
    expect(toAccessToken({ access_token: PLANTED, expires_in: 86_401 }, 'E', NOW).expiresOnTimestamp).toBe(capped)
    expect(toAccessToken({ access_token: PLANTED, expires_in: 86_400 }, 'E', NOW).expiresOnTimestamp).toBe(capped)
    expect(toAccessToken({ access_token: PLANTED, expires_on: NOW / 1000 + 5e9 }, 'E', NOW).expiresOnTimestamp).toBe(capped)
  })

  it('reads an expires_on over 1e11 as milliseconds: its real lifetime when ahead, AZCRED_RESPONSE_INVALID when past', () => {
    expect(toAccessToken({ access_token: PLANTED, expires_on: NOW + 3_600_000 }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 3_600_000)
    expect(toAccessToken({ access_token: PLANTED, expires_on: String(NOW + 7_200_000) }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 7_200_000)
    for (const past of [NOW - 60_000, String(NOW - 3_600_000), 1e12]) {
      expect(() => toAccessToken({ access_token: PLANTED, expires_on: past }, 'E', NOW)).toThrow(expect.objectContaining({ code: 'AZCRED_RESPONSE_INVALID' }))
    }
  })

  it('uses refresh_in only when it is inside the lifetime', () => {
    const refreshAt = (refreshIn: unknown, expiresIn: unknown = 3600) =>
      toAccessToken({ access_token: PLANTED, expires_in: expiresIn, refresh_in: refreshIn }, 'E', NOW).refreshAfterTimestamp
    expect(refreshAt(1800)).toBe(NOW + 1_800_000)
    expect(refreshAt('1800')).toBe(NOW + 1_800_000)
    for (const ignored of [0, -1, '0', 3600, 3601, 1e12, 'soon', '', null, true]) expect(refreshAt(ignored)).toBeUndefined()
    // Compared with the capped lifetime.
    expect(refreshAt(90_000, 1e12)).toBeUndefined()
    expect(refreshAt(43_200, 1e12)).toBe(NOW + 43_200_000)
  })

  describe('short lifetimes (issue 11 B6): a token is never fetched again on every call', () => {
    it.each([0.001, 1, 29, 30, 59, 59.999, '59', '1'])(
      'refuses expires_in %j: under MIN_TOKEN_LIFETIME_MS (60 s), so it could not be cached past the clock skew',
      (expiresIn) => {
        expect(MIN_TOKEN_LIFETIME_MS).toBe(60_000)
        const error = refusalOf({ access_token: PLANTED, expires_in: expiresIn })
        expect(error).toMatchObject({
          code: 'AZCRED_RESPONSE_INVALID',
          message: 'E answered a missing or invalid expires_in or expires_on (at least 60 s): check the URL',
        })
        expect(exposed(error)).not.toContain(PLANTED)
      },
    )

    it('refuses an expires_on under 60 s away, and accepts exactly 60 s', () => {
      expect(refusalOf({ access_token: PLANTED, expires_on: NOW / 1000 + 5 }).code).toBe('AZCRED_RESPONSE_INVALID')
      expect(refusalOf({ access_token: PLANTED, expires_on: String(NOW / 1000 + 59) }).code).toBe('AZCRED_RESPONSE_INVALID')
      expect(toAccessToken({ access_token: PLANTED, expires_on: NOW / 1000 + 60 }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 60_000)
      expect(toAccessToken({ access_token: PLANTED, expires_in: 60 }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 60_000)
    })

    it('ignores a refresh_in under 60 s (as it ignores one of 0), keeping the margin-based refresh', () => {
      const refreshAt = (refreshIn: unknown) =>
        toAccessToken({ access_token: PLANTED, expires_in: 3600, refresh_in: refreshIn }, 'E', NOW).refreshAfterTimestamp
      for (const ignored of [0.001, '1e-3', 1, '1', 59, 59.999]) expect(refreshAt(ignored)).toBeUndefined()
      expect(refreshAt(60)).toBe(NOW + 60_000)
      expect(refreshAt('60')).toBe(NOW + 60_000)
    })
  })

  describe('numeric strings are plain decimal digits (issue 11 B6)', () => {
    it.each([
      '0x10',
      '0x7fffffff',
      '0b111000010000',
      '0o7020',
      '1e3',
      '3.6e3',
      '1e400',
      'Infinity',
      '+3600',
      '-0',
      ' 3600 ',
      '3600 ',
      '3600\n',
      '3_600',
      '.5e4',
      '3600.',
    ])('expires_in %j is AZCRED_RESPONSE_INVALID, and as expires_on or refresh_in it is not read either', (text) => {
      expect(refusalOf({ access_token: PLANTED, expires_in: text }).code).toBe('AZCRED_RESPONSE_INVALID')
      expect(refusalOf({ access_token: PLANTED, expires_on: text }).code).toBe('AZCRED_RESPONSE_INVALID')
      expect(toAccessToken({ access_token: PLANTED, expires_in: 86_400, refresh_in: text }, 'E', NOW).refreshAfterTimestamp).toBeUndefined()
    })

    it('reads decimal strings, with or without a fraction', () => {
      expect(toAccessToken({ access_token: PLANTED, expires_in: '3599' }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 3_599_000)
      expect(toAccessToken({ access_token: PLANTED, expires_in: '3599.5' }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 3_599_500)
      expect(toAccessToken({ access_token: PLANTED, expires_on: String(NOW / 1000 + 600) }, 'E', NOW).expiresOnTimestamp).toBe(NOW + 600_000)
    })
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a space', `${PLANTED} x`],
    ['a newline', `${PLANTED}\n`],
    ['a tab', `\t${PLANTED}`],
    ['non-ASCII', `${PLANTED}é`],
    ['a NUL', `${PLANTED}\0`],
    ['a number', 12345],
    ['an object', { value: PLANTED }],
    ['too long', `${PLANTED}${'a'.repeat(MAX_ACCESS_TOKEN_LENGTH)}`],
  ])('refuses an access_token that is %s, without echoing it', (_kind, token) => {
    const error = refusalOf({ access_token: token, expires_in: 3600 })
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toBe('E answered a missing or invalid access_token: check the URL')
    expect(exposed(error)).not.toContain(PLANTED)
  })

  it('accepts a token of exactly MAX_ACCESS_TOKEN_LENGTH printable characters', () => {
    const token = '!~'.repeat(MAX_ACCESS_TOKEN_LENGTH / 2)
    expect(toAccessToken({ access_token: token, expires_in: 60 }, 'E', NOW).token).toBe(token)
  })

  it.each(['pop', 'PoP', 'mac', 'N_A', '', 'Bearer ', 'Bearer\n', 'bearer2', 0, false, ['Bearer'], { toString: () => 'Bearer' }])(
    'refuses token_type %j, without echoing the token',
    (tokenType) => {
      const error = refusalOf({ access_token: PLANTED, token_type: tokenType, expires_in: 3600 })
      expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
      expect(error.message).toBe('E answered a missing or invalid token_type (only Bearer): check the URL')
      expect(exposed(error)).not.toContain(PLANTED)
    },
  )
})

describe('tokenRequestClaims (A17: enableCae sends the cp1 client capability)', () => {
  const CP1 = { xms_cc: { values: ['cp1'] } }

  it('sends nothing, or the caller’s claims as they are, without CAE', () => {
    expect(tokenRequestClaims(undefined, false)).toBeUndefined()
    expect(tokenRequestClaims('', false)).toBeUndefined()
    expect(tokenRequestClaims('{"access_token":{"nbf":{"essential":true}}}', false)).toBe('{"access_token":{"nbf":{"essential":true}}}')
  })

  it('declares cp1 with CAE, merged into a claims challenge', () => {
    expect(JSON.parse(tokenRequestClaims(undefined, true) as string)).toEqual({ access_token: CP1 })
    expect(JSON.parse(tokenRequestClaims('', true) as string)).toEqual({ access_token: CP1 })
    const challenge = { access_token: { nbf: { essential: true, value: '1767225600' } }, id_token: { auth_time: { essential: true } } }
    expect(JSON.parse(tokenRequestClaims(JSON.stringify(challenge), true) as string)).toEqual({
      access_token: { nbf: { essential: true, value: '1767225600' }, ...CP1 },
      id_token: { auth_time: { essential: true } },
    })
    // The capability azcred declares replaces any other list, as MSAL does.
    expect(JSON.parse(tokenRequestClaims('{"access_token":{"xms_cc":{"values":["cp2"]}}}', true) as string)).toEqual({ access_token: CP1 })
  })

  it.each(['not json', `{"access_token":"${PLANTED}"`, '[1]', 'null', '"text"', '5', 'true'])(
    'refuses claims %j with CAE as AZCRED_CONFIG_INVALID',
    (claims) => {
      let error: unknown
      try {
        tokenRequestClaims(claims, true)
      } catch (caught) {
        error = caught
      }
      expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: 'claims must be a JSON object (the decoded claims challenge)' })
      expect(exposed(error)).not.toContain(PLANTED)
    },
  )
})

describe('requestClientCredentialsToken', () => {
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

  function send(request: Partial<TokenRequest>) {
    return requestClientCredentialsToken({
      authorityHost: emulator.authorityHost,
      clientId: app.clientId,
      request: {
        scopes: ['https://vault.azure.net/.default'],
        tenantId: app.tenantId,
        claims: undefined,
        enableCae: false,
        timeoutMs: undefined,
        background: false,
        ...request,
      },
      clientAuthentication: { client_secret: app.clientSecret },
      fetch: emulator.fetch,
    })
  }
  const lastForm = () => emulator.requests.at(-1)?.form ?? {}

  it('sends no claims without CAE or a challenge', async () => {
    await send({})
    expect(lastForm().claims).toBeUndefined()
  })

  it('with enableCae sends the cp1 capability, merged with the challenge', async () => {
    await send({ enableCae: true })
    expect(JSON.parse(lastForm().claims as string)).toEqual({ access_token: { xms_cc: { values: ['cp1'] } } })
    await send({ enableCae: true, claims: '{"access_token":{"nbf":{"essential":true,"value":"1767225600"}}}' })
    expect(JSON.parse(lastForm().claims as string)).toEqual({ access_token: { nbf: { essential: true, value: '1767225600' }, xms_cc: { values: ['cp1'] } } })
  })

  it('rejects (not throws) a claims challenge that is not JSON with CAE, before sending', async () => {
    const sent = emulator.requests.length
    const pending = send({ enableCae: true, claims: 'eyJhbGciOi' })
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(emulator.requests.length).toBe(sent)
  })

  it('C2: passes the request’s abortSignal on to the HTTP request', async () => {
    const sent = emulator.requests.length
    await expect(send({ abortSignal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(emulator.requests.length).toBe(sent)

    emulator.injectFault({ kind: 'delay', ms: 5_000 })
    const controller = new AbortController()
    const pending = send({ abortSignal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
  })
})
