// OnBehalfOfCredential against the Entra emulator's on-behalf-of grant: the wire, client
// authentication by secret, certificate and assertion, per-user caching in the shared bounded store,
// refresh-token reuse, each refusal with its code and message, and no secret anywhere.
// (The official OnBehalfOfCredential's contract with the same grant: tooling/entra-emulator/src/user-flows-contract.e2e.test.ts.)
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { AzcredError, type TokenEvent } from '@azcred/core'
import { createOidcIssuer, type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { claimsChallengeHeader, OnBehalfOfCredential, type OnBehalfOfCredentialOptions, OnBehalfOfUserCache } from './index'

let emulator: EntraEmulator
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

const STORAGE = 'https://storage.azure.com/.default'
const VAULT = 'https://vault.azure.net/.default'
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')
let userCount = 0

/** A fresh API app, a user of it and that user's token for the API. */
async function setUp(options: { consentedResources?: string[]; expiresInSeconds?: number; audience?: string } = {}) {
  userCount += 1
  const api = emulator.registerApp({ identifierUris: [`api://orders-${userCount}`] })
  const user = emulator.addUser({ username: `obo.${userCount}@contoso.onmicrosoft.com`, consentedResources: options.consentedResources })
  const userAssertionToken = await emulator.issueUserToken({
    username: user.username,
    audience: options.audience ?? `api://orders-${userCount}`,
    scopes: ['Orders.Read'],
    expiresInSeconds: options.expiresInSeconds,
  })
  return { api, user, userAssertionToken }
}

const oboRequests = (clientId: string) =>
  emulator.requestsTo('/oauth2/v2.0/token').filter((request) => request.form.client_id === clientId && request.form.requested_token_use === 'on_behalf_of')
const tokenRequests = (clientId: string) => emulator.requestsTo('/oauth2/v2.0/token').filter((request) => request.form.client_id === clientId)

function credentialFor(
  api: { tenantId: string; clientId: string; clientSecret: string },
  userAssertionToken: string,
  extra: Partial<OnBehalfOfCredentialOptions> = {},
): OnBehalfOfCredential {
  return new OnBehalfOfCredential({
    tenantId: api.tenantId,
    clientId: api.clientId,
    clientSecret: api.clientSecret,
    userAssertionToken,
    authorityHost: emulator.authorityHost,
    fetch: emulator.fetch,
    ...extra,
  } as OnBehalfOfCredentialOptions)
}

describe('the on-behalf-of wire', () => {
  it('client secret: jwt-bearer grant, the user token as assertion, requested_token_use, client_secret, the scopes plus openid profile offline_access', async () => {
    const { api, user, userAssertionToken } = await setUp()
    const token = await credentialFor(api, userAssertionToken).getToken(STORAGE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid, azp: api.clientId, idtyp: 'user' })
    const [request] = oboRequests(api.clientId)
    expect(request?.path).toBe(`/${api.tenantId}/oauth2/v2.0/token`)
    expect(request?.form).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: userAssertionToken,
      requested_token_use: 'on_behalf_of',
      client_id: api.clientId,
      client_secret: api.clientSecret,
      client_info: '1',
    })
    expect(request?.form.scope?.split(' ').sort()).toEqual([STORAGE, 'offline_access', 'openid', 'profile'].sort())
    expect(request?.form.client_assertion).toBeUndefined()
  })

  it('certificate (PEM): a signed client assertion instead of a secret', async () => {
    const api = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const user = emulator.addUser({ username: 'obo.certificate@contoso.onmicrosoft.com' })
    const userAssertionToken = await emulator.issueUserToken({ username: user.username, audience: api.clientId })
    const credential = new OnBehalfOfCredential({
      tenantId: api.tenantId,
      clientId: api.clientId,
      certificate: fixture('rsa-combined.pem'),
      userAssertionToken,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const token = await credential.getToken(STORAGE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid, azp: api.clientId })
    const [request] = oboRequests(api.clientId)
    expect(request?.form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    expect(decodeJwt(request?.form.client_assertion ?? '')).toMatchObject({ iss: api.clientId, sub: api.clientId })
    expect(request?.form.client_secret).toBeUndefined()
    expect(request?.form.assertion).toBe(userAssertionToken)
  })

  it('getAssertion: a federated client assertion from the source', async () => {
    const issuer = await createOidcIssuer('https://token.actions.githubusercontent.com')
    emulator.trustIssuer(issuer.issuer, issuer.jwks)
    const subject = 'repo:contoso/orders-api:environment:production'
    const api = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject }] })
    const user = emulator.addUser({ username: 'obo.federated@contoso.onmicrosoft.com' })
    const userAssertionToken = await emulator.issueUserToken({ username: user.username, audience: `api://${api.clientId}` })
    const presented: string[] = []
    const credential = new OnBehalfOfCredential({
      tenantId: api.tenantId,
      clientId: api.clientId,
      getAssertion: async () => {
        const assertion = await issuer.issue({ subject, audience: 'api://AzureADTokenExchange' })
        presented.push(assertion)
        return assertion
      },
      userAssertionToken,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const token = await credential.getToken(STORAGE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid })
    expect(oboRequests(api.clientId)[0]?.form).toMatchObject({ client_assertion: presented[0], assertion: userAssertionToken })
  })
})

describe('per-user caching (one credential per request, as a server builds them)', () => {
  it('the same user twice → one request; a second user → a second request', async () => {
    const { api, user, userAssertionToken } = await setUp()
    const other = emulator.addUser({ username: `obo.second.${userCount}@contoso.onmicrosoft.com` })
    const otherToken = await emulator.issueUserToken({ username: other.username, audience: `api://orders-${userCount}` })

    const first = await credentialFor(api, userAssertionToken).getToken(STORAGE)
    const second = await credentialFor(api, userAssertionToken).getToken(STORAGE)
    expect(second.token).toBe(first.token)
    expect(oboRequests(api.clientId)).toHaveLength(1)

    const third = await credentialFor(api, otherToken).getToken(STORAGE)
    expect(oboRequests(api.clientId)).toHaveLength(2)
    expect(decodeJwt(third.token).oid).toBe(other.oid)
    expect(decodeJwt(first.token).oid).toBe(user.oid)
  })

  it('concurrent requests of one user through separate credentials share one request; a second user concurrently gets its own', async () => {
    const { api, userAssertionToken } = await setUp()
    const other = emulator.addUser({ username: `obo.concurrent.${userCount}@contoso.onmicrosoft.com` })
    const otherToken = await emulator.issueUserToken({ username: other.username, audience: `api://orders-${userCount}` })
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => credentialFor(api, userAssertionToken).getToken(STORAGE)),
      credentialFor(api, otherToken).getToken(STORAGE),
    ])
    expect(new Set(results.slice(0, 5).map((token) => token.token)).size).toBe(1)
    expect(decodeJwt(results[5]?.token ?? '').oid).toBe(other.oid)
    expect(oboRequests(api.clientId)).toHaveLength(2)
  })

  it('a joiner whose shared request was aborted by its starter asks on its own', async () => {
    const { api, userAssertionToken } = await setUp()
    const controller = new AbortController()
    emulator.injectFault({ kind: 'delay', ms: 300 })
    const starter = credentialFor(api, userAssertionToken).getToken(STORAGE, { abortSignal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const joiner = credentialFor(api, userAssertionToken).getToken(STORAGE)
    controller.abort()
    await expect(starter).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    await expect(joiner).resolves.toHaveProperty('token')
  })

  it('another scope of a cached user redeems the refresh token on-behalf-of returned (no second on-behalf-of)', async () => {
    const { api, user, userAssertionToken } = await setUp()
    await credentialFor(api, userAssertionToken).getToken(STORAGE)
    const vault = await credentialFor(api, userAssertionToken).getToken(VAULT)
    expect(decodeJwt(vault.token)).toMatchObject({ aud: 'https://vault.azure.net', oid: user.oid })
    expect(oboRequests(api.clientId)).toHaveLength(1)
    expect(tokenRequests(api.clientId).at(-1)?.form).toMatchObject({ grant_type: 'refresh_token', client_secret: api.clientSecret })
  })

  it('a refused refresh token falls back to on-behalf-of with the user token', async () => {
    const { api, user, userAssertionToken } = await setUp()
    await credentialFor(api, userAssertionToken).getToken(STORAGE)
    emulator.revokeRefreshTokens(user.username)
    const vault = await credentialFor(api, userAssertionToken).getToken(VAULT)
    expect(decodeJwt(vault.token)).toMatchObject({ aud: 'https://vault.azure.net', oid: user.oid })
    expect(oboRequests(api.clientId)).toHaveLength(2)
  })

  it('the bound: with maxUsers 3, a 4th user evicts the least recently used one', async () => {
    const { api } = await setUp()
    const userCache = new OnBehalfOfUserCache({ maxUsers: 3 })
    const tokens: string[] = []
    for (let index = 0; index < 4; index += 1) {
      const added = emulator.addUser({ username: `obo.bound.${index}.${userCount}@contoso.onmicrosoft.com` })
      tokens.push(await emulator.issueUserToken({ username: added.username, audience: `api://orders-${userCount}` }))
    }
    const [a, b, c, d] = tokens as [string, string, string, string]
    for (const token of [a, b, c]) await credentialFor(api, token, { userCache }).getToken(STORAGE)
    await credentialFor(api, a, { userCache }).getToken(STORAGE) // a is used again: b is now the oldest
    expect(oboRequests(api.clientId)).toHaveLength(3)
    await credentialFor(api, d, { userCache }).getToken(STORAGE)
    expect(userCache.size).toBe(3)
    expect(oboRequests(api.clientId)).toHaveLength(4)
    await credentialFor(api, a, { userCache }).getToken(STORAGE)
    await credentialFor(api, c, { userCache }).getToken(STORAGE)
    expect(oboRequests(api.clientId)).toHaveLength(4) // a, c, d still cached
    await credentialFor(api, b, { userCache }).getToken(STORAGE)
    expect(oboRequests(api.clientId)).toHaveLength(5) // b was evicted
  })

  it("a user's entries are dropped when the incoming token expires: the next request goes to Entra, which answers AADSTS500133", async () => {
    const { api, userAssertionToken } = await setUp({ expiresInSeconds: 2 })
    const userCache = new OnBehalfOfUserCache()
    await credentialFor(api, userAssertionToken, { userCache }).getToken(STORAGE)
    expect(userCache.size).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 2_100))
    const error = await credentialFor(api, userAssertionToken, { userCache })
      .getToken(STORAGE)
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS500133' })
    expect(userCache.size).toBe(0)
    expect(oboRequests(api.clientId)).toHaveLength(2)
  })

  it('tokenCache: the tokens are also written to the caller’s cache and read from it when the user store misses', async () => {
    const { api, userAssertionToken } = await setUp()
    const written = new Map<string, string>()
    const tokenCache = {
      read: async (key: string) => written.get(key),
      write: async (key: string, value: string) => void written.set(key, value),
      remove: async (key: string) => void written.delete(key),
      scrub: async () => written.clear(),
    }
    const first = await credentialFor(api, userAssertionToken, { tokenCache, userCache: new OnBehalfOfUserCache() }).getToken(STORAGE)
    const keys = [...written.keys()]
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(/"obo:[\w-]{43}"/)
    expect(keys[0]).not.toContain(userAssertionToken)
    const second = await credentialFor(api, userAssertionToken, { tokenCache, userCache: new OnBehalfOfUserCache() }).getToken(STORAGE)
    expect(second.token).toBe(first.token)
    expect(oboRequests(api.clientId)).toHaveLength(1)
  })
})

describe('refusals: code and message', () => {
  const failure = async (credential: OnBehalfOfCredential, scope = STORAGE) => {
    const error = await credential.getToken(scope).catch((caught: unknown) => caught)
    expect(AzcredError.isInstance(error)).toBe(true)
    return error as AzcredError & Record<string, unknown>
  }

  it('an expired incoming token: AZCRED_TOKEN_REQUEST_FAILED AADSTS500133, telling the API to answer 401', async () => {
    const { api, userAssertionToken } = await setUp({ expiresInSeconds: -60 })
    const error = await failure(credentialFor(api, userAssertionToken))
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', name: 'TokenRequestError', aadstsCode: 'AADSTS500133', status: 400 })
    expect(error.message).toMatch(/incoming user token \(userAssertionToken\) has expired.*answer the caller 401/)
  })

  it('a token for another API (a Graph token): AADSTS50013, naming the aud it had and the aud it needs', async () => {
    const { api, userAssertionToken } = await setUp({ audience: 'https://graph.microsoft.com' })
    const error = await failure(credentialFor(api, userAssertionToken))
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS50013' })
    expect(error.message).toContain('its aud is "https://graph.microsoft.com"')
    expect(error.message).toContain(`aud = its client id ${api.clientId}`)
    expect(error.message).toMatch(/Microsoft Graph/)
    expect(error.message).not.toMatch(/sign in again|authenticate\(\)/)
  })

  it('a value that is not a JWT: AADSTS50027', async () => {
    const { api } = await setUp()
    const error = await failure(credentialFor(api, 'not-a-jwt-at-all'))
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS50027' })
    expect(error.message).toMatch(/not a valid JWT/)
  })

  it('consent missing (AADSTS65001): AZCRED_INTERACTION_REQUIRED, and a challenge without claims', async () => {
    const { api, userAssertionToken } = await setUp({ consentedResources: [] })
    const error = await failure(credentialFor(api, userAssertionToken))
    expect(error).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', name: 'InteractionRequiredError', aadstsCode: 'AADSTS65001', error: 'invalid_grant' })
    expect(error.message).toMatch(/not consented.*claimsChallengeHeader/)
    expect(claimsChallengeHeader(error, { authorityHost: emulator.authorityHost, tenantId: api.tenantId })).toBe(
      `Bearer realm="", authorization_uri="${emulator.authorityHost}/${api.tenantId}/oauth2/v2.0/authorize", error="interaction_required"`,
    )
  })

  it('MFA required (AADSTS50076 interaction_required): AZCRED_INTERACTION_REQUIRED carrying the claims, and the WWW-Authenticate claims challenge', async () => {
    const { api, user, userAssertionToken } = await setUp()
    emulator.requireMfa(user.username, 'https://storage.azure.com')
    const error = await failure(credentialFor(api, userAssertionToken))
    expect(error).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', aadstsCode: 'AADSTS50076', error: 'interaction_required' })
    const claims = error.claims as string
    expect(JSON.parse(claims)).toHaveProperty('access_token')
    expect(error.message).toMatch(/multi-factor.*WWW-Authenticate/)
    const header = claimsChallengeHeader(error, { authorityHost: emulator.authorityHost, tenantId: api.tenantId })
    expect(header).toBe(
      `Bearer realm="", authorization_uri="${emulator.authorityHost}/${api.tenantId}/oauth2/v2.0/authorize", error="insufficient_claims", claims="${btoa(claims)}"`,
    )
    // A token issued after MFA passes.
    const afterMfa = await emulator.issueUserToken({ username: user.username, audience: `api://orders-${userCount}`, mfa: true })
    await expect(credentialFor(api, afterMfa).getToken(STORAGE)).resolves.toHaveProperty('token')
  })

  it('claimsChallengeHeader: undefined for other errors; defaults to the public cloud and common', () => {
    expect(claimsChallengeHeader(new Error('x'))).toBeUndefined()
    expect(claimsChallengeHeader(new AzcredError('AZCRED_TIMEOUT', 'slow'))).toBeUndefined()
    const error = Object.assign(new AzcredError('AZCRED_INTERACTION_REQUIRED', 'mfa'), { claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' })
    expect(claimsChallengeHeader(error)).toBe(
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/v2.0/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"',
    )
    expect(() => claimsChallengeHeader(error, { authorityHost: 'http://login.example' })).toThrow(/authorityHost/)
  })
})

describe('configuration', () => {
  const base = { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: 'api', userAssertionToken: 'user.token.value' }
  const invalid = (options: unknown, pattern: RegExp) => {
    let error: unknown
    try {
      new OnBehalfOfCredential(options as OnBehalfOfCredentialOptions)
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect((error as Error).message).toMatch(pattern)
    expect((error as Error).message).not.toContain('user.token.value')
    expect((error as Error).message).not.toContain('s3cr3t')
  }
  it('exactly one client authentication; certificatePath only on Node; the user token required', () => {
    invalid(base, /exactly one of clientSecret, certificate, getAssertion or clientAuthentication \(none was given\)/)
    invalid({ ...base, clientSecret: 's3cr3t', getAssertion: () => 'a' }, /clientSecret and getAssertion were given/)
    invalid({ ...base, certificatePath: '/etc/cert.pem' }, /@azcred\/on-behalf-of\/node/)
    invalid({ ...base, clientSecret: 's3cr3t', userAssertionToken: '' }, /userAssertionToken/)
    invalid({ ...base, clientSecret: 's3cr3t', tenantId: 'not a tenant' }, /tenantId/)
    invalid({ ...base, clientAuthentication: { nope: true } }, /clientAuthentication must be a ClientAuthentication/)
    invalid({ ...base, clientSecret: 's3cr3t', userCache: {} }, /userCache must be an OnBehalfOfUserCache/)
    expect(() => new OnBehalfOfUserCache({ maxUsers: 0 })).toThrow(/maxUsers/)
  })
})

describe('no secret anywhere', () => {
  it('no user token, client secret, access or refresh token in errors, events, util.inspect or JSON', async () => {
    const { api, user, userAssertionToken } = await setUp()
    const events: TokenEvent[] = []
    const userCache = new OnBehalfOfUserCache()
    const onEvent = (event: TokenEvent) => events.push(event)
    const answers: string[] = []
    const fetch = (async (url: string, init?: RequestInit) => {
      const response = await emulator.fetch(url, init)
      answers.push(await response.clone().text())
      return response
    }) as typeof emulator.fetch
    const credential = credentialFor(api, userAssertionToken, { onEvent, userCache, fetch })
    const token = await credential.getToken(STORAGE)
    await credentialFor(api, userAssertionToken, { onEvent, userCache }).getToken(STORAGE) // cache-hit
    const refreshToken = JSON.parse(answers[0] ?? '{}').refresh_token as string
    expect(refreshToken).toMatch(/.{20}/)

    const errors: unknown[] = []
    for (const audience of ['https://graph.microsoft.com', `api://orders-${userCount}`]) {
      const assertion = await emulator.issueUserToken({ username: user.username, audience, expiresInSeconds: audience.startsWith('api') ? -5 : 600 })
      errors.push(
        await credentialFor(api, assertion, { onEvent })
          .getToken(STORAGE)
          .catch((caught: unknown) => caught),
      )
      errors.push(assertion)
    }
    emulator.requireMfa(user.username, 'https://vault.azure.net')
    errors.push(
      await credentialFor(api, userAssertionToken, { onEvent, userCache: new OnBehalfOfUserCache() })
        .getToken(VAULT)
        .catch((caught: unknown) => caught),
    )
    const planted: string[] = []
    const wrongSecret = new OnBehalfOfCredential({
      tenantId: api.tenantId,
      clientId: api.clientId,
      clientSecret: 'planted~client~secret~value',
      userAssertionToken,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      onEvent,
      userCache: new OnBehalfOfUserCache(),
    })
    errors.push(await wrongSecret.getToken(VAULT).catch((caught: unknown) => caught))

    const secrets = [userAssertionToken, api.clientSecret, 'planted~client~secret~value', token.token, refreshToken, ...planted]
    const assertions = errors.filter((value) => typeof value === 'string') as string[]
    const thrown = errors.filter((value) => typeof value !== 'string')
    expect(thrown.every((error) => AzcredError.isInstance(error))).toBe(true)
    const shown = [
      ...thrown.flatMap((error) => [inspect(error, { depth: 10 }), JSON.stringify(error), (error as Error).stack ?? '', String((error as Error).cause)]),
      ...events.map((event) => JSON.stringify(event)),
      inspect(credential, { depth: 10, showHidden: true }),
      JSON.stringify(credential),
      inspect(userCache, { depth: 10, showHidden: true }),
      JSON.stringify(userCache),
    ].join('\n')
    for (const secret of [...secrets, ...assertions]) expect(shown).not.toContain(secret)
    expect(events.map((event) => event.type)).toContain('cache-hit')
    expect(JSON.stringify(userCache)).toBe('{"users":1}')
  })
})
