import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AzcredError } from './azcred-error'
import { MAX_ACCESS_TOKEN_LENGTH, parseTokenResponse, toAccessToken } from './token-response'

const NOW = Date.parse('2026-06-01T12:00:00Z')
const ACCESS = 'eyJ0eXAi.planted-access_7f3a9'
const REFRESH = '0.AAAA-planted-refresh-token_91c2'
const UID = '6f0d7a3e-0000-4c2b-9d1e-2b1c3a4d5e6f'
const UTID = '72f988bf-86f1-41af-91ab-2d7cd011db47'

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const idToken = (claims: Record<string, unknown>) => `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.planted-id-signature`
const ID_CLAIMS = { oid: 'a1b2c3d4-0000-0000-0000-000000000001', tid: UTID, preferred_username: 'ada@contoso.example', name: 'Ada' }
const ID_TOKEN = idToken(ID_CLAIMS)
const CLIENT_INFO = b64url({ uid: UID, utid: UTID })

const base = { access_token: ACCESS, token_type: 'Bearer', expires_in: 3599 }

function exposed(error: unknown): string {
  return [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 5 })].join('\n')
}

function refusalOf(body: Record<string, unknown>): AzcredError {
  try {
    parseTokenResponse(body, 'E', NOW)
  } catch (error) {
    if (AzcredError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected parseTokenResponse to throw')
}

describe('parseTokenResponse', () => {
  it('reads a signed-in user answer: refresh token, id token claims, client_info account, granted scopes', () => {
    const response = parseTokenResponse(
      { ...base, refresh_token: REFRESH, id_token: ID_TOKEN, client_info: CLIENT_INFO, scope: 'https://graph.microsoft.com/User.Read  openid profile' },
      'E',
      NOW,
    )
    expect(response).toEqual({
      accessToken: { token: ACCESS, expiresOnTimestamp: NOW + 3_599_000, tokenType: 'Bearer' },
      refreshToken: REFRESH,
      idTokenClaims: ID_CLAIMS,
      homeAccountId: `${UID}.${UTID}`,
      grantedScopes: ['https://graph.microsoft.com/User.Read', 'openid', 'profile'],
    })
    expect(Object.isFrozen(response.idTokenClaims)).toBe(true)
    // The raw id token is not kept anywhere.
    expect(JSON.stringify(response)).not.toContain('planted-id-signature')
  })

  it('the access token follows toAccessToken exactly (one set of number and date rules)', () => {
    const bodies: Record<string, unknown>[] = [
      base,
      { access_token: ACCESS, expires_in: '3599.5', refresh_in: 1800 },
      { access_token: ACCESS, expires_on: String(NOW / 1000 + 600) },
      { access_token: ACCESS, expires_on: NOW + 7_200_000 },
      { access_token: ACCESS, expires_in: 1e12, refresh_in: 43_200 },
    ]
    for (const body of bodies) expect(parseTokenResponse(body, 'E', NOW).accessToken).toEqual(toAccessToken(body, 'E', NOW))
    for (const body of [{ access_token: ACCESS, expires_in: 59 }, { access_token: ACCESS, token_type: 'pop', expires_in: 3600 }, { expires_in: 3600 }]) {
      expect(refusalOf(body)).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringMatching(/^E answered a missing or invalid /) })
    }
  })

  it('an app-only answer has only the access token; absent, null and empty fields are left out (managed identity sends refresh_token "")', () => {
    expect(parseTokenResponse(base, 'E', NOW)).toEqual({ accessToken: toAccessToken(base, 'E', NOW) })
    const empty = { ...base, refresh_token: '', id_token: null, client_info: '', scope: '' }
    expect(parseTokenResponse(empty, 'E', NOW)).toEqual({ accessToken: toAccessToken(base, 'E', NOW) })
  })

  it('without client_info, the account comes from the id token (oid.tid); with neither, there is none', () => {
    expect(parseTokenResponse({ ...base, id_token: ID_TOKEN }, 'E', NOW).homeAccountId).toBe(`${ID_CLAIMS.oid}.${UTID}`)
    // client_info wins over the id token.
    expect(parseTokenResponse({ ...base, id_token: ID_TOKEN, client_info: CLIENT_INFO }, 'E', NOW).homeAccountId).toBe(`${UID}.${UTID}`)
    // An id token without a usable oid/tid gives its claims but no account.
    for (const claims of [{ tid: UTID }, { oid: 'a.b', tid: UTID }, { oid: 5, tid: UTID }, { oid: 'x'.repeat(161), tid: UTID }]) {
      const response = parseTokenResponse({ ...base, id_token: idToken(claims) }, 'E', NOW)
      expect(response.idTokenClaims).toEqual(claims)
      expect(response.homeAccountId).toBeUndefined()
    }
    expect(parseTokenResponse({ ...base, refresh_token: REFRESH }, 'E', NOW).homeAccountId).toBeUndefined()
  })

  it('reads an Azure AD B2C uid (<oid>-<policy>) and padded base64url client_info', () => {
    const info = Buffer.from(JSON.stringify({ uid: `${UID}-b2c_1_signupsignin`, utid: UTID })).toString('base64')
    expect(parseTokenResponse({ ...base, client_info: info }, 'E', NOW).homeAccountId).toBe(`${UID}-b2c_1_signupsignin.${UTID}`)
  })

  it('accepts tokens of exactly MAX_ACCESS_TOKEN_LENGTH characters', () => {
    const long = 'r'.repeat(MAX_ACCESS_TOKEN_LENGTH)
    expect(parseTokenResponse({ ...base, refresh_token: long }, 'E', NOW).refreshToken).toBe(long)
  })

  describe('hostile values: AZCRED_RESPONSE_INVALID naming the field, never echoing a value', () => {
    const hostileStrings: Array<[string, unknown]> = [
      ['too long', `${REFRESH}${'a'.repeat(MAX_ACCESS_TOKEN_LENGTH)}`],
      ['a newline', `${REFRESH}\n`],
      ['an escape sequence', `${REFRESH}\u001b[2J`],
      ['a NUL', `${REFRESH}\0`],
      ['a bidi override', `${REFRESH}\u202e`],
      ['a space', `${REFRESH} x`],
      ['a number', 12345],
      ['true', true],
      ['an array', [REFRESH]],
      ['an object', { value: REFRESH }],
    ]

    it.each(hostileStrings)('refresh_token %s', (_kind, value) => {
      const error = refusalOf({ ...base, refresh_token: value })
      expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: 'E answered an invalid refresh_token' })
      expect(exposed(error)).not.toContain(REFRESH)
      expect(exposed(error)).not.toContain(ACCESS)
    })

    it.each([
      ...hostileStrings,
      ['not a JWT', 'planted-id-token'],
      ['a JWT whose payload is not JSON', 'eyJhbGciOiJub25lIn0.planted-not-json.sig'],
      ['a JWT whose payload is an array', idToken([1, 2] as unknown as Record<string, unknown>)],
      ['a JWT whose payload is a string', `${b64url({})}.${b64url('planted')}.sig`],
      ['a JWT whose payload is null', `${b64url({})}.${b64url(null)}.sig`],
    ] as Array<[string, unknown]>)('id_token %s', (_kind, value) => {
      const error = refusalOf({ ...base, id_token: value, refresh_token: REFRESH })
      expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: 'E answered an invalid id_token (a JWT)' })
      expect(exposed(error)).not.toContain(REFRESH)
      expect(exposed(error)).not.toContain('planted')
    })

    it.each([
      ['not base64 JSON', 'planted!!'],
      ['JSON without utid', b64url({ uid: UID })],
      ['a uid with a dot (would make the account ambiguous)', b64url({ uid: `${UID}.x`, utid: UTID })],
      ['a uid with a control character', b64url({ uid: `${UID}\n`, utid: UTID })],
      ['numbers', b64url({ uid: 1, utid: 2 })],
      ['a uid over 160 characters', b64url({ uid: 'u'.repeat(161), utid: UTID })],
      ['over 4096 characters', b64url({ uid: UID, utid: UTID, pad: 'p'.repeat(4096) })],
      ['a JSON array', b64url([UID, UTID])],
      ['a number', 42],
      ['an object', { uid: UID, utid: UTID }],
    ] as Array<[string, unknown]>)('client_info %s', (_kind, value) => {
      const error = refusalOf({ ...base, client_info: value, id_token: ID_TOKEN })
      expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: 'E answered an invalid client_info (base64url JSON with uid and utid)' })
      expect(exposed(error)).not.toContain('planted')
    })

    it.each([
      ['too long', `openid ${'s'.repeat(MAX_ACCESS_TOKEN_LENGTH)}`],
      ['a newline', 'openid\nprofile'],
      ['a tab', 'openid\tprofile'],
      ['non-ASCII', 'openid prøfile'],
      ['an array', ['openid']],
      ['a number', 7],
    ] as Array<[string, unknown]>)('scope %s', (_kind, value) => {
      expect(refusalOf({ ...base, scope: value, refresh_token: REFRESH })).toMatchObject({
        code: 'AZCRED_RESPONSE_INVALID',
        message: 'E answered an invalid scope',
      })
    })
  })
})
