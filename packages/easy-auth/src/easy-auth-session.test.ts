import { createServer, type IncomingMessage } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { inspect } from 'node:util'
import { AzcredError } from '@azcred/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { easyAuthHeaders, PRINCIPAL, principalHeader, TENANT_ID, USER_OID, userToken } from './__fixtures__/easy-auth-fixtures'
import { type EasyAuthRequest, MAX_HEADER_LENGTH } from './easy-auth-headers'
import { MAX_PRINCIPAL_CLAIMS } from './easy-auth-principal'
import { EasyAuthInteractionRequiredError, readEasyAuthPrincipal, readEasyAuthSession } from './easy-auth-session'

const TOKEN = userToken()

function caught(run: () => unknown): AzcredError {
  try {
    run()
  } catch (error) {
    if (AzcredError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected an AzcredError')
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
}

function randomCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      [...name].map((character, index) => (index % 2 ? character.toLowerCase() : character.toUpperCase())).join(''),
      value,
    ]),
  )
}

/** A real Node IncomingMessage: a loopback server receives the headers and hands its request to `use`. */
async function withIncomingMessage<T>(headers: Record<string, string>, use: (request: IncomingMessage) => T): Promise<T> {
  let result: { value: T } | { error: unknown } | undefined
  const server = createServer((request, response) => {
    try {
      result = { value: use(request) }
    } catch (error) {
      result = { error }
    }
    response.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    await (await fetch(`http://127.0.0.1:${port}/`, { headers })).text()
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  if (result === undefined) throw new Error('no request reached the server')
  if ('error' in result) throw result.error
  return result.value
}

describe('request shapes and header cases', () => {
  const headers = easyAuthHeaders(TOKEN)
  const shapes: Array<[string, EasyAuthRequest]> = [
    ['a plain record in the platform case', headers],
    ['a plain record in lower case (Express req.headers, Fastify request.headers)', lowerCase(headers)],
    ['a plain record in mixed case', randomCase(headers)],
    ['a Fetch Headers', new Headers(headers)],
    ['a Fetch Request (Next.js route handler, Hono c.req.raw)', new Request('http://app.local/', { headers })],
    ['an Express/Fastify-like request { headers: record }', { headers: lowerCase(headers), url: '/' }],
    ["Hono's c.req ({ raw: Request })", { raw: new Request('http://app.local/', { headers: randomCase(headers) }) }],
    [
      'an Express request (req.get(name), case-insensitive, undefined when absent)',
      { get: (name: string) => lowerCase(headers)[name.toLowerCase()], headers: lowerCase(headers) } as unknown as EasyAuthRequest,
    ],
    ['a record with array values (Node joins, frameworks may not)', { ...lowerCase(headers), 'x-ms-client-principal-id': [USER_OID] }],
  ]
  it.each(shapes)('reads the user and the token from %s', (_, request) => {
    const session = readEasyAuthSession(request, { trustHeaders: true })
    expect(session.accessToken).toBe(TOKEN)
    expect(session.principal).toMatchObject({ id: USER_OID, name: 'ada@contoso.onmicrosoft.com', identityProvider: 'aad', roles: ['Reader', 'Admin'] })
    expect(session.principal.claims).toHaveLength(PRINCIPAL.claims.length)
    expect(session.tokenClaims.tid).toBe(TENANT_ID)
  })

  it('reads a real Node IncomingMessage (headers sent in mixed case over HTTP)', async () => {
    const session = await withIncomingMessage(randomCase(headers), (request) => readEasyAuthSession(request, { trustHeaders: true }))
    expect(session.accessToken).toBe(TOKEN)
    expect(session.principal.name).toBe('ada@contoso.onmicrosoft.com')
  })

  it('refuses a header sent twice with different values (two cases of one name, or an array)', () => {
    const twice = { ...headers, 'x-ms-token-aad-access-token': userToken({ oid: 'someone-else' }) }
    expect(caught(() => readEasyAuthSession(twice, { trustHeaders: true })).message).toMatch(/X-MS-TOKEN-AAD-ACCESS-TOKEN more than once/)
    const array = { ...lowerCase(headers), 'x-ms-client-principal-id': [USER_OID, 'aaaaaaaa-0000-0000-0000-000000000000'] }
    expect(caught(() => readEasyAuthSession(array, { trustHeaders: true })).code).toBe('AZCRED_RESPONSE_INVALID')
  })

  it('refuses a header a real Node IncomingMessage received twice (Node joins it into "a, b" in request.headers), also under Fastify-style raw', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const received = new Promise<IncomingMessage>((resolve) =>
        server.once('request', (request: IncomingMessage, response) => {
          resolve(request)
          response.end('ok')
        }),
      )
      const { port } = server.address() as AddressInfo
      const lines = Object.entries(lowerCase(headers)).map(([name, value]) => `${name}: ${value}`)
      lines.push('X-MS-CLIENT-PRINCIPAL-NAME: mallory@contoso.onmicrosoft.com')
      const socket = connect({ host: '127.0.0.1', port }, () =>
        socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`),
      )
      socket.on('error', () => {})
      const request = await received
      socket.destroy()
      expect(request.headers['x-ms-client-principal-name']).toBe('ada@contoso.onmicrosoft.com, mallory@contoso.onmicrosoft.com')
      for (const shape of [request, { headers: request.headers, raw: request }]) {
        expect(caught(() => readEasyAuthSession(shape as never, { trustHeaders: true })).message).toMatch(/X-MS-CLIENT-PRINCIPAL-NAME more than once/)
        expect(caught(() => readEasyAuthPrincipal(shape as never, { trustHeaders: true })).code).toBe('AZCRED_RESPONSE_INVALID')
      }
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('refuses something that is not a request', () => {
    for (const request of [null, 'x-ms-token-aad-access-token: x', 42, [headers]]) {
      expect(caught(() => readEasyAuthSession(request as never, { trustHeaders: true })).code).toBe('AZCRED_CONFIG_INVALID')
    }
  })
})

describe('the principal', () => {
  it('falls back to the claims when the -ID / -NAME / -IDP headers are absent', () => {
    const principal = readEasyAuthPrincipal({ 'x-ms-client-principal': principalHeader(PRINCIPAL) }, { trustHeaders: true })
    expect(principal).toEqual({
      id: USER_OID,
      name: 'ada@contoso.onmicrosoft.com',
      identityProvider: 'aad',
      roles: ['Reader', 'Admin'],
      claims: PRINCIPAL.claims,
    })
    expect(Object.isFrozen(principal) && Object.isFrozen(principal?.claims)).toBe(true)
  })

  it('reads UTF-8 names and custom name_typ / role_typ', () => {
    const body = {
      auth_typ: 'aad',
      name_typ: 'n',
      role_typ: 'r',
      claims: [
        { typ: 'n', val: 'Zoë 山田' },
        { typ: 'r', val: 'Owner' },
      ],
    }
    expect(readEasyAuthPrincipal({ 'X-MS-CLIENT-PRINCIPAL': principalHeader(body) }, { trustHeaders: true })).toMatchObject({
      name: 'Zoë 山田',
      roles: ['Owner'],
    })
  })

  it('is undefined for an anonymous request', () => {
    expect(readEasyAuthPrincipal({ accept: 'text/html' }, { trustHeaders: true })).toBeUndefined()
  })

  it.each([
    ['not base64', '%%%not-base64%%%', /not base64 of UTF-8 JSON/],
    ['base64 of something that is not JSON', btoa('{"claims": ['), /not base64 of UTF-8 JSON/],
    ['a JSON array', principalHeader([1, 2]), /not a JSON object/],
    ['claims that are not a list', principalHeader({ claims: 'admin' }), /not a list/],
    ['a claim with a number', principalHeader({ claims: [{ typ: 'roles', val: 1 }] }), /\{ typ, val \}/],
    ['too many claims', principalHeader({ claims: Array.from({ length: MAX_PRINCIPAL_CLAIMS + 1 }, () => ({ typ: 'a', val: 'b' })) }), /more than 1024 claims/],
    ['invalid UTF-8', btoa('\xff\xfe{}'), /not base64 of UTF-8 JSON/],
  ])('refuses X-MS-CLIENT-PRINCIPAL that is %s', (_, value, message) => {
    const error = caught(() => readEasyAuthPrincipal({ 'x-ms-client-principal': value }, { trustHeaders: true }))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toMatch(message)
  })

  it('refuses an oversized header before decoding it, and a name with control characters', () => {
    const huge = 'A'.repeat(MAX_HEADER_LENGTH + 1)
    expect(caught(() => readEasyAuthPrincipal({ 'x-ms-client-principal': huge }, { trustHeaders: true })).message).toMatch(/longer than 65536/)
    expect(caught(() => readEasyAuthPrincipal({ 'x-ms-client-principal-name': 'ada\r\nx-ms-admin: 1' }, { trustHeaders: true })).code).toBe(
      'AZCRED_RESPONSE_INVALID',
    )
  })

  it('refuses -ID that names another user than the claims (a forged header next to a real principal)', () => {
    const headers = { 'x-ms-client-principal': principalHeader(PRINCIPAL), 'x-ms-client-principal-id': 'aaaaaaaa-0000-0000-0000-000000000000' }
    expect(caught(() => readEasyAuthPrincipal(headers, { trustHeaders: true })).message).toMatch(/another user/)
  })
})

describe('the trust rule', () => {
  beforeEach(() => vi.stubEnv('WEBSITE_AUTH_ENABLED', ''))
  afterEach(() => vi.unstubAllEnvs())

  it('refuses the headers off the platform, saying they can be forged and how to opt in', () => {
    const error = caught(() => readEasyAuthSession(easyAuthHeaders(TOKEN), undefined))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/WEBSITE_AUTH_ENABLED is not True/)
    expect(error.message).toMatch(/forge X-MS-\* headers/)
    expect(error.message).toMatch(/trustHeaders: true/)
    expect(caught(() => readEasyAuthPrincipal(easyAuthHeaders(TOKEN))).code).toBe('AZCRED_CONFIG_INVALID')
    expect(caught(() => readEasyAuthSession(easyAuthHeaders(TOKEN), { trustHeaders: false })).code).toBe('AZCRED_CONFIG_INVALID')
  })

  it.each(['True', 'true', 'TRUE'])('trusts them when WEBSITE_AUTH_ENABLED=%s', (value) => {
    vi.stubEnv('WEBSITE_AUTH_ENABLED', value)
    expect(readEasyAuthSession(easyAuthHeaders(TOKEN), undefined).principal.id).toBe(USER_OID)
  })

  it.each(['False', '1', 'yes'])('does not trust them when WEBSITE_AUTH_ENABLED=%s', (value) => {
    vi.stubEnv('WEBSITE_AUTH_ENABLED', value)
    expect(caught(() => readEasyAuthSession(easyAuthHeaders(TOKEN), undefined)).code).toBe('AZCRED_CONFIG_INVALID')
  })

  it('refuses a trustHeaders that is not a boolean', () => {
    expect(caught(() => readEasyAuthSession(easyAuthHeaders(TOKEN), { trustHeaders: 'yes' as never })).message).toMatch(/trustHeaders must be a boolean/)
  })
})

describe('errors', () => {
  it('nobody signed in → login action', () => {
    const error = caught(() => readEasyAuthSession({ accept: '*/*' }, { trustHeaders: true }))
    expect(error).toBeInstanceOf(EasyAuthInteractionRequiredError)
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(error).toMatchObject({ action: 'login', path: '/.auth/login/aad' })
  })

  it('signed in without an access token → says to turn the token store on and add a login scope for the API', () => {
    const headers = easyAuthHeaders(TOKEN)
    delete (headers as Record<string, string>)['X-MS-TOKEN-AAD-ACCESS-TOKEN']
    const error = caught(() => readEasyAuthSession(headers, { trustHeaders: true }))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/token store/)
    expect(error.message).toMatch(/login scope for your API/)
  })

  it('an expired token (by its exp or by X-MS-TOKEN-AAD-EXPIRES-ON) → refresh action naming /.auth/refresh', () => {
    const expired = userToken({ exp: Math.floor(Date.now() / 1000) - 10 })
    const byClaim = caught(() => readEasyAuthSession(easyAuthHeaders(expired), { trustHeaders: true }))
    expect(byClaim).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', action: 'refresh', path: '/.auth/refresh' })
    expect(byClaim.message).toMatch(/call \/\.auth\/refresh/)
    const byHeader = caught(() =>
      readEasyAuthSession(easyAuthHeaders(TOKEN, { 'X-MS-TOKEN-AAD-EXPIRES-ON': new Date(Date.now() - 1000).toISOString() }), { trustHeaders: true }),
    )
    expect(byHeader).toMatchObject({ action: 'refresh' })
    const soon = caught(() => readEasyAuthSession(easyAuthHeaders(userToken({ exp: Math.floor(Date.now() / 1000) + 30 })), { trustHeaders: true }))
    expect(soon.message).toMatch(/expires within a minute/)
  })

  it("reads App Service's 7-digit fraction dates", () => {
    const later = new Date(Date.now() + 7_200_000).toISOString().replace('Z', '0000Z')
    const session = readEasyAuthSession(easyAuthHeaders(userToken({ exp: undefined }), { 'X-MS-TOKEN-AAD-EXPIRES-ON': later }), { trustHeaders: true })
    expect(session.expiresOnTimestamp).toBe(Date.parse(later))
  })

  it.each([
    ['not a JWT', { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': 'opaque token value' }, /not a JWT/],
    ['joined duplicates (Headers joins with ", ")', { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': `${TOKEN}, ${TOKEN}` }, /not a JWT/],
    ['an unparseable expiry', { 'X-MS-TOKEN-AAD-EXPIRES-ON': 'tomorrow-ish' }, /not a date/],
  ])('refuses an access token header that is %s', (_, overrides, message) => {
    const error = caught(() => readEasyAuthSession(easyAuthHeaders(TOKEN, overrides), { trustHeaders: true }))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(error.message).toMatch(message)
  })

  it('refuses headers whose principal and token name different users', () => {
    const error = caught(() => readEasyAuthSession(easyAuthHeaders(userToken({ oid: 'bbbbbbbb-0000-0000-0000-000000000000' })), { trustHeaders: true }))
    expect(error.message).toMatch(/different users/)
  })

  it('no token, id token or planted secret in any message, JSON or inspect output', () => {
    const planted = userToken({ exp: Math.floor(Date.now() / 1000) - 10, note: 'PLANTED-SECRET-1' })
    const errors = [
      caught(() => readEasyAuthSession(easyAuthHeaders(planted), { trustHeaders: true })),
      caught(() => readEasyAuthSession(easyAuthHeaders(planted), { trustHeaders: false })),
      caught(() => readEasyAuthSession(easyAuthHeaders(`${planted}, x`), { trustHeaders: true })),
      caught(() => readEasyAuthSession(easyAuthHeaders(TOKEN, { 'x-ms-token-aad-access-token': planted }), { trustHeaders: true })),
    ]
    for (const error of errors) {
      for (const text of [error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { depth: 5, showHidden: true })]) {
        expect(text).not.toContain(planted.split('.')[1])
        expect(text).not.toContain('planted-signature')
      }
    }
  })
})
