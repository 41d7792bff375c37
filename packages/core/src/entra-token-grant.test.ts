// requestTokenGrant against a loopback token endpoint: the exact form each grant sends, the client
// authentication composed in, the one refreshOn retry, and no secret in any error.
import { createServer } from 'node:http'
import { inspect } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { failureOf } from './__fixtures__/failure-of'
import { TokenRequestError } from './azcred-error'
import type { ClientAuthentication, ClientAuthenticationContext } from './client-authentication'
import { requestClientCredentialsToken, requestTokenGrant, type TokenGrantRequest } from './entra-token'
import type { TokenRequest } from './token-lifecycle'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '2c1b0e4f-1111-4a4a-9b9b-0123456789ab'
const REFRESH = '0.AAAA-planted-refresh_token-4f1e'
const NEW_REFRESH = '0.AAAA-planted-rotated_token-9e2d'
const DEVICE_CODE = 'DAQABAAEAAA-planted-device-code'
const SECRET = 'planted~client.Secret_6b1f'
const ASSERTION = 'eyJhbGciOiJSUzI1NiJ9.planted-assertion.sig'
const ACCESS = 'eyJ0eXAi.planted-access_7f3a9'
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const ID_TOKEN = `${b64url({ alg: 'none' })}.${b64url({ oid: 'a1b2c3d4-0000-0000-0000-000000000001', tid: TENANT, preferred_username: 'ada@contoso.example' })}.planted-id-sig`
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

function exposed(error: unknown): string {
  return [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n')
}

// The loopback token endpoint: records each request, answers from a queue (then the default).
interface Hit {
  path: string
  body: string
  form: Record<string, string>
}
const hits: Hit[] = []
let answers: Array<{ status: number; body: unknown }> = []
const success = { access_token: ACCESS, token_type: 'Bearer', expires_in: 3600, refresh_token: NEW_REFRESH, id_token: ID_TOKEN, scope: 'User.Read openid' }
const server = createServer((request, response) => {
  let body = ''
  request.setEncoding('utf8')
  request.on('data', (chunk: string) => {
    body += chunk
  })
  request.on('end', () => {
    hits.push({ path: request.url ?? '', body, form: Object.fromEntries(new URLSearchParams(body)) })
    const answer = answers.shift() ?? { status: 200, body: success }
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body))
  })
})
let authorityHost = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  authorityHost = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})
beforeEach(() => {
  hits.length = 0
  answers = []
})

const refusal = (codes: number[], error = 'invalid_client') => ({
  status: 400,
  body: { error, error_description: `AADSTS${codes[0]}: planted ${SECRET} ${REFRESH}`, error_codes: codes, trace_id: '0a0b0c0d-0000-0000-0000-000000000000' },
})

function tokenRequest(overrides: Partial<TokenRequest> = {}): TokenRequest {
  return {
    scopes: ['https://graph.microsoft.com/User.Read', 'offline_access'],
    tenantId: TENANT,
    claims: undefined,
    enableCae: false,
    background: false,
    ...overrides,
  } as TokenRequest
}

function grant(overrides: Partial<TokenGrantRequest> & Pick<TokenGrantRequest, 'grant'>) {
  return requestTokenGrant({ authorityHost, clientId: CLIENT, request: tokenRequest(), ...overrides })
}

// A client authentication that records every context it was asked with.
function recordingAuthentication(extra: Partial<ClientAuthentication> = {}) {
  const contexts: ClientAuthenticationContext[] = []
  const authentication: ClientAuthentication = {
    formFields(context) {
      contexts.push(context)
      return { client_assertion_type: 'urn:test:assertion', client_assertion: `${ASSERTION}${contexts.length}` }
    },
    ...extra,
  }
  return { authentication, contexts }
}

describe('requestTokenGrant: the form each grant sends', () => {
  it('refresh_token grant for a public client: exactly grant_type, refresh_token, client_id, scope, to the tenant token endpoint', async () => {
    const response = await grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH } })
    expect(hits).toHaveLength(1)
    expect(hits[0]?.path).toBe(`/${TENANT}/oauth2/v2.0/token`)
    expect(hits[0]?.body).toBe(
      `grant_type=refresh_token&refresh_token=${REFRESH}&client_id=${CLIENT}&scope=https%3A%2F%2Fgraph.microsoft.com%2FUser.Read+offline_access`,
    )
    expect(response).toMatchObject({
      accessToken: { token: ACCESS, tokenType: 'Bearer' },
      refreshToken: NEW_REFRESH,
      idTokenClaims: { preferred_username: 'ada@contoso.example', tid: TENANT },
      homeAccountId: `a1b2c3d4-0000-0000-0000-000000000001.${TENANT}`,
      grantedScopes: ['User.Read', 'openid'],
    })
  })

  it('device_code grant with CAE: the device code and the cp1 claims, nothing else', async () => {
    await grant({ grant: { grant_type: DEVICE_CODE_GRANT, device_code: DEVICE_CODE }, request: tokenRequest({ enableCae: true }) })
    expect(hits[0]?.form).toEqual({
      grant_type: DEVICE_CODE_GRANT,
      client_id: CLIENT,
      device_code: DEVICE_CODE,
      scope: 'https://graph.microsoft.com/User.Read offline_access',
      claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}',
    })
  })

  it('a confidential refresh: the client authentication fields follow the grant fields; client_id and scope cannot be overridden', async () => {
    const { authentication, contexts } = recordingAuthentication()
    const controller = new AbortController()
    await grant({
      grant: { grant_type: 'refresh_token', refresh_token: REFRESH, client_id: 'other-client', scope: 'other' },
      clientAuthentication: authentication,
      request: tokenRequest({ abortSignal: controller.signal }),
    })
    expect(Object.keys(hits[0]?.form ?? {})).toEqual(['grant_type', 'refresh_token', 'client_id', 'scope', 'client_assertion_type', 'client_assertion'])
    expect(hits[0]?.form).toMatchObject({ client_id: CLIENT, scope: 'https://graph.microsoft.com/User.Read offline_access', client_assertion: `${ASSERTION}1` })
    expect(contexts).toEqual([{ tenantId: TENANT, authorityHost, clientId: CLIENT, forceRefresh: false, abortSignal: controller.signal }])
  })

  it('a client authentication cannot replace grant_type, client_id, scope, the grant’s fields or claims', async () => {
    const hostile: ClientAuthentication = {
      formFields: () => ({
        grant_type: 'password',
        client_id: 'other-client',
        scope: 'https://other.example/.default',
        refresh_token: 'planted-other-refresh',
        claims: '{"access_token":{"planted":{"essential":true}}}',
        client_secret: SECRET,
      }),
    }
    await grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: hostile })
    expect(hits[0]?.form).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      client_id: CLIENT,
      scope: 'https://graph.microsoft.com/User.Read offline_access',
      client_secret: SECRET,
    })
    // Nor a grant's own `claims`: the request's claims (here none) are the only ones sent.
    await grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH, claims: '{"planted":1}' } })
    expect(hits[1]?.form.claims).toBeUndefined()
  })

  it('client_credentials through the wrapper sends the same form as before (grant_type, client_id, auth, scope)', async () => {
    const accessToken = await requestClientCredentialsToken({
      authorityHost,
      clientId: CLIENT,
      request: tokenRequest({ scopes: ['https://vault.azure.net/.default'] }),
      clientAuthentication: { client_secret: SECRET },
    })
    expect(hits[0]?.body).toBe(
      `grant_type=client_credentials&client_id=${CLIENT}&client_secret=planted%7Eclient.Secret_6b1f&scope=https%3A%2F%2Fvault.azure.net%2F.default`,
    )
    // Only the access token: the wrapper does not read user fields.
    expect(accessToken).toEqual({ token: ACCESS, expiresOnTimestamp: expect.any(Number), tokenType: 'Bearer' })
    // A ClientAuthentication value works too, with its hints.
    const { authentication } = recordingAuthentication({ hints: { 700027: 'planted hint: upload the certificate' } })
    answers.push(refusal([700027]))
    const error = await failureOf(
      requestClientCredentialsToken({
        authorityHost,
        clientId: CLIENT,
        request: tokenRequest({ scopes: ['https://vault.azure.net/.default'] }),
        clientAuthentication: authentication,
      }),
    )
    expect(error.message).toContain('AADSTS700027): planted hint: upload the certificate')
    expect(hits[1]?.form.grant_type).toBe('client_credentials')
  })

  it('the flow’s hints win over the client authentication’s; each applies to its own codes', async () => {
    const { authentication } = recordingAuthentication({ hints: { 7000215: 'auth hint A', 700027: 'auth hint B' } })
    answers.push(refusal([7000215]), refusal([700027]))
    const send = () =>
      grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication, hints: { 7000215: 'flow hint' } })
    expect((await failureOf(send())).message).toContain('AADSTS7000215): flow hint')
    expect((await failureOf(send())).message).toContain('AADSTS700027): auth hint B')
  })

  it('rejects CAE claims that are not JSON before asking for fields or sending', async () => {
    const { authentication, contexts } = recordingAuthentication()
    const error = await failureOf(
      grant({
        grant: { grant_type: 'refresh_token', refresh_token: REFRESH },
        clientAuthentication: authentication,
        request: tokenRequest({ enableCae: true, claims: 'nope' }),
      }),
    )
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(contexts).toHaveLength(0)
    expect(hits).toHaveLength(0)
  })

  it('a client authentication that throws: its error, nothing sent', async () => {
    const failing: ClientAuthentication = {
      formFields: async () => {
        throw new TokenRequestError('source failed', { status: 0 })
      },
    }
    await expect(grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: failing })).rejects.toThrow('source failed')
    expect(hits).toHaveLength(0)
  })
})

describe('requestTokenGrant: refreshOn and describeRefusal', () => {
  it('a code in refreshOn: fields made again with forceRefresh and sent once more, then the token', async () => {
    const { authentication, contexts } = recordingAuthentication({ refreshOn: [700024] })
    answers.push(refusal([700024]))
    const response = await grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication })
    expect(response.accessToken.token).toBe(ACCESS)
    expect(contexts.map((context) => context.forceRefresh)).toEqual([false, true])
    expect(hits.map((hit) => hit.form.client_assertion)).toEqual([`${ASSERTION}1`, `${ASSERTION}2`])
  })

  it('once only: a second refusal with the same code ends it (2 requests), described with the fields sent last', async () => {
    const { authentication, contexts } = recordingAuthentication({
      refreshOn: [700024],
      describeRefusal: (error, fields) => `presented ${fields.client_assertion?.slice(-1)} after ${error.aadstsCode}`,
    })
    answers.push(refusal([700024]), refusal([700024]), refusal([700024]))
    const error = await failureOf(grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication }))
    expect(hits).toHaveLength(2)
    expect(contexts.map((context) => context.forceRefresh)).toEqual([false, true])
    expect(error).toBeInstanceOf(TokenRequestError)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 400, errorCodes: [700024], aadstsCode: 'AADSTS700024' })
    expect(error.message).toMatch(/AADSTS700024\).*; presented 2 after AADSTS700024$/)
  })

  it('a code not in refreshOn: no second request, no forceRefresh; the description appended after "; "', async () => {
    const { authentication, contexts } = recordingAuthentication({ refreshOn: [700024], describeRefusal: () => 'the assertion presented iss "x"' })
    answers.push(refusal([700213]))
    const error = await failureOf(grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication }))
    expect(hits).toHaveLength(1)
    expect(contexts).toHaveLength(1)
    expect(error.message).toMatch(/; the assertion presented iss "x"$/)
  })

  it('no refreshOn, or an undefined description: the refusal as it came', async () => {
    const { authentication } = recordingAuthentication({ describeRefusal: () => undefined })
    answers.push(refusal([700024]))
    const error = await failureOf(grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication }))
    expect(hits).toHaveLength(1)
    expect(error.message).not.toContain(';')
  })

  it('a network failure or an invalid answer is never retried here, nor described', async () => {
    const { authentication, contexts } = recordingAuthentication({ refreshOn: [700024], describeRefusal: () => 'described' })
    answers.push({ status: 200, body: { access_token: ACCESS, expires_in: 3600, refresh_token: `${REFRESH}\n` } })
    const error = await failureOf(grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication }))
    expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: 'the Entra ID token endpoint answered an invalid refresh_token' })
    expect(contexts).toHaveLength(1)
  })
})

describe('requestTokenGrant: planted secrets never reach an error', () => {
  it.each([
    ['a refusal', refusal([70008], 'invalid_grant')],
    ['a refusal with a refreshOn code', refusal([700024])],
    ['a 500 echoing the form', { status: 500, body: { error: 'server_error', error_description: `${SECRET} ${REFRESH} ${ASSERTION}` } }],
    ['an answer with a broken id token', { status: 200, body: { ...success, id_token: `${ID_TOKEN}\n` } }],
    ['an answer with a broken refresh token', { status: 200, body: { ...success, refresh_token: `${NEW_REFRESH} ${SECRET}` } }],
    ['an answer with a broken access token', { status: 200, body: { ...success, access_token: `${ACCESS}\u0000` } }],
  ])('%s', async (_kind, answer) => {
    answers.push(answer, answer)
    const authentication: ClientAuthentication = {
      formFields: ({ forceRefresh }) => ({ client_secret: SECRET, client_assertion: `${ASSERTION}${forceRefresh}` }),
      refreshOn: [700024],
      describeRefusal: (error) => `code ${error.errorCodes[0]}`,
    }
    const error = await failureOf(grant({ grant: { grant_type: 'refresh_token', refresh_token: REFRESH }, clientAuthentication: authentication }))
    const text = exposed(error)
    for (const secret of [SECRET, REFRESH, NEW_REFRESH, ASSERTION, ACCESS, 'planted-id-sig', 'planted']) expect(text).not.toContain(secret)
  })
})
