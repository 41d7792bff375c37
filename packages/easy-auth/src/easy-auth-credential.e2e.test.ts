// easyAuthCredential against the Entra emulator's on-behalf-of grant: headers in, a downstream token for the same
// user out, client authentication by secret and by a federated assertion, per-user caching across per-request
// credentials, the audience rule, and no user token or app secret in any error or util.inspect output.
import { inspect } from 'node:util'
import { AzcredError } from '@azcred/core'
import { createOidcIssuer, type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { OnBehalfOfCredential } from '@azcred/on-behalf-of'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { principalHeader } from './__fixtures__/easy-auth-fixtures'
import { easyAuthCredential } from './easy-auth-credential'

const STORAGE = 'https://storage.azure.com/.default'
let emulator: EntraEmulator
let count = 0

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator?.close()
})
afterEach(() => vi.unstubAllEnvs())

/** The app (one registration: Easy Auth signs users in to it, and it calls on their behalf), a user, and what the platform would send. */
async function signedIn(audience?: (clientId: string) => string) {
  count += 1
  const app = emulator.registerApp()
  const user = emulator.addUser({ username: `easy.${count}@contoso.onmicrosoft.com`, name: `Easy ${count}` })
  const token = await emulator.issueUserToken({
    username: user.username,
    audience: audience ? audience(app.clientId) : `api://${app.clientId}`,
    clientId: app.clientId,
  })
  const headers = {
    'x-ms-token-aad-access-token': token,
    'x-ms-token-aad-expires-on': new Date(Date.now() + 3_600_000).toISOString(),
    'x-ms-client-principal': principalHeader({
      auth_typ: 'aad',
      claims: [
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: user.oid },
        { typ: 'preferred_username', val: user.username },
        { typ: 'roles', val: 'Reader' },
      ],
      name_typ: 'preferred_username',
      role_typ: 'roles',
    }),
    'x-ms-client-principal-id': user.oid,
    'x-ms-client-principal-name': user.username,
    'x-ms-client-principal-idp': 'aad',
  }
  return { app, user, token, headers }
}

const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'))
const oboRequests = (clientId: string) =>
  emulator.requestsTo('/oauth2/v2.0/token').filter((request) => request.form.client_id === clientId && request.form.requested_token_use === 'on_behalf_of')

function caught(run: () => unknown): AzcredError {
  try {
    run()
  } catch (error) {
    if (AzcredError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected an AzcredError')
}

describe('easyAuthCredential', () => {
  it('turns the headers into an OnBehalfOfCredential for the user, with the principal (secret; tenant from tid)', async () => {
    const { app, user, token, headers } = await signedIn()
    const credential = easyAuthCredential(new Request('http://app.local/vms', { headers }), {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      trustHeaders: true,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    expect(credential).toBeInstanceOf(OnBehalfOfCredential)
    expect(credential.principal).toMatchObject({ id: user.oid, name: user.username, identityProvider: 'aad', roles: ['Reader'] })
    const downstream = await credential.getToken(STORAGE)
    expect(claimsOf(downstream.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid, tid: app.tenantId, azp: app.clientId })
    expect(oboRequests(app.clientId)[0]?.form).toMatchObject({ assertion: token, client_secret: app.clientSecret })
  })

  it('on the platform: trusted through WEBSITE_AUTH_ENABLED, clientId from WEBSITE_AUTH_CLIENT_ID; a federated assertion as client authentication', async () => {
    const issuer = await createOidcIssuer('https://login.microsoftonline.com/managed-identity-issuer/v2.0')
    emulator.trustIssuer(issuer.issuer, issuer.jwks)
    const subject = 'managed-identity-object-id'
    count += 1
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject }] })
    const user = emulator.addUser({ username: `easy.fed.${count}@contoso.onmicrosoft.com` })
    const token = await emulator.issueUserToken({ username: user.username, audience: `api://${app.clientId}` })
    vi.stubEnv('WEBSITE_AUTH_ENABLED', 'True')
    vi.stubEnv('WEBSITE_AUTH_CLIENT_ID', app.clientId)
    const credential = easyAuthCredential(
      { headers: { 'x-ms-token-aad-access-token': token, 'x-ms-client-principal-name': user.username } },
      {
        getAssertion: () => issuer.issue({ subject, audience: 'api://AzureADTokenExchange' }),
        authorityHost: emulator.authorityHost,
        fetch: emulator.fetch,
      },
    )
    expect(credential.principal).toMatchObject({ id: user.oid, name: user.username })
    expect(claimsOf((await credential.getToken(STORAGE)).token)).toMatchObject({ oid: user.oid, azpacr: '2' })
    expect(oboRequests(app.clientId)[0]?.form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
  })

  it('one credential per request: the same user twice → 1 on-behalf-of request; two users → 2', async () => {
    const first = await signedIn()
    const options = {
      clientId: first.app.clientId,
      clientSecret: first.app.clientSecret,
      trustHeaders: true,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    }
    await easyAuthCredential(first.headers, options).getToken(STORAGE)
    await easyAuthCredential(new Headers(first.headers), options).getToken(STORAGE)
    expect(oboRequests(first.app.clientId)).toHaveLength(1)
    const other = emulator.addUser({ username: `easy.other.${count}@contoso.onmicrosoft.com` })
    const otherToken = await emulator.issueUserToken({ username: other.username, audience: `api://${first.app.clientId}` })
    const second = await easyAuthCredential({ 'x-ms-token-aad-access-token': otherToken, 'x-ms-client-principal-id': other.oid }, options).getToken(STORAGE)
    expect(claimsOf(second.token).oid).toBe(other.oid)
    expect(oboRequests(first.app.clientId)).toHaveLength(2)
  })

  it('refuses a token for another audience before any request: Graph (no login scope for the API) names what to configure', async () => {
    const { app, headers } = await signedIn(() => 'https://graph.microsoft.com')
    const error = caught(() => easyAuthCredential(headers, { clientId: app.clientId, clientSecret: app.clientSecret, trustHeaders: true }))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/is for "https:\/\/graph\.microsoft\.com" \(Microsoft Graph: the login asked for no scope of your API\)/)
    expect(error.message).toMatch(/login scope for your API/)
    expect(oboRequests(app.clientId)).toHaveLength(0)
    const custom = await signedIn(() => 'https://contoso.com/orders')
    expect(() =>
      easyAuthCredential(custom.headers, {
        clientId: custom.app.clientId,
        clientSecret: custom.app.clientSecret,
        trustHeaders: true,
        audiences: ['https://contoso.com/orders'],
      }),
    ).not.toThrow()
  })

  it('refuses untrusted headers, a missing clientId, and missing options', async () => {
    vi.stubEnv('WEBSITE_AUTH_ENABLED', '')
    vi.stubEnv('WEBSITE_AUTH_CLIENT_ID', '')
    vi.stubEnv('AZURE_CLIENT_ID', '')
    const { app, headers } = await signedIn()
    expect(caught(() => easyAuthCredential(headers, { clientId: app.clientId, clientSecret: app.clientSecret })).message).toMatch(/forge X-MS-\* headers/)
    expect(caught(() => easyAuthCredential(headers, { clientSecret: app.clientSecret, trustHeaders: true })).message).toMatch(
      /clientId is missing.*WEBSITE_AUTH_CLIENT_ID/,
    )
    expect(caught(() => easyAuthCredential(headers, undefined as never)).code).toBe('AZCRED_CONFIG_INVALID')
    expect(caught(() => easyAuthCredential(headers, { clientId: app.clientId, trustHeaders: true } as never)).code).toBe('AZCRED_CONFIG_INVALID')
  })

  it('an expired Easy Auth token is refused before the on-behalf-of request, pointing at /.auth/refresh', async () => {
    const { app, user } = await signedIn()
    const expired = await emulator.issueUserToken({ username: user.username, audience: `api://${app.clientId}`, expiresInSeconds: -30 })
    const error = caught(() =>
      easyAuthCredential({ 'X-MS-TOKEN-AAD-ACCESS-TOKEN': expired }, { clientId: app.clientId, clientSecret: app.clientSecret, trustHeaders: true }),
    )
    expect(error).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', action: 'refresh', path: '/.auth/refresh' })
    expect(oboRequests(app.clientId)).toHaveLength(0)
  })

  it('no user token, downstream token or app secret in errors, events, util.inspect or JSON of the credential', async () => {
    const { app, token, headers } = await signedIn()
    const secret = app.clientSecret
    const events: unknown[] = []
    // The refusal first: afterwards the shared per-user cache would answer this user's token without a request.
    const failing = easyAuthCredential(headers, {
      clientId: app.clientId,
      clientSecret: `${secret}-wrong`,
      trustHeaders: true,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      onEvent: (event) => events.push(event),
    })
    const refusal = (await failing.getToken(STORAGE).then(
      () => undefined,
      (error: unknown) => error,
    )) as AzcredError
    expect(refusal.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
    const credential = easyAuthCredential(headers, {
      clientId: app.clientId,
      clientSecret: secret,
      trustHeaders: true,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      onEvent: (event) => events.push(event),
    })
    const downstream = await credential.getToken(STORAGE)
    expect(events.length).toBeGreaterThan(0)
    const graph = await signedIn(() => 'https://graph.microsoft.com')
    const audienceError = caught(() =>
      easyAuthCredential(graph.headers, { clientId: graph.app.clientId, clientSecret: graph.app.clientSecret, trustHeaders: true }),
    )
    for (const text of [
      inspect(credential, { depth: 6, showHidden: true }),
      JSON.stringify(credential),
      JSON.stringify(events),
      inspect(events, { depth: 6 }),
      refusal.message,
      refusal.stack ?? '',
      inspect(refusal, { depth: 6, showHidden: true }),
      JSON.stringify(audienceError),
      inspect(audienceError, { depth: 6 }),
    ]) {
      expect(text).not.toContain(token.split('.')[1])
      expect(text).not.toContain(graph.token.split('.')[1])
      expect(text).not.toContain(secret)
      expect(text).not.toContain(downstream.token.split('.')[1])
    }
  })
})
