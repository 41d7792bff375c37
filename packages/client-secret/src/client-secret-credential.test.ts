import { inspect } from 'node:util'
import { AzcredError, type TokenEvent, TokenRequestError } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { ClientSecretCredential } from './index'

const SCOPE = 'https://management.azure.com/.default'
let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})
beforeEach(() => {
  emulator.requests.length = 0
  emulator.clearFaults()
})

function credentialFor(app: { tenantId: string; clientId: string; clientSecret: string }, options = {}) {
  return new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
    authorityHost: emulator.authorityHost,
    fetch: emulator.fetch,
    ...options,
  })
}

describe('ClientSecretCredential against the emulator', () => {
  it('gets a signed app-only token and sends the client-credentials form', async () => {
    const app = emulator.registerApp({ roles: ['Reader'] })
    const token = await credentialFor(app).getToken(SCOPE)

    const claims = decodeJwt(token.token)
    expect(claims).toMatchObject({ aud: 'https://management.azure.com', tid: app.tenantId, azp: app.clientId, roles: ['Reader'] })
    expect(token.tokenType).toBe('Bearer')
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3_500_000)
    const [request] = emulator.requestsTo('/oauth2/v2.0/token')
    expect(request?.path).toBe(`/${app.tenantId}/oauth2/v2.0/token`)
    expect(request?.form).toEqual({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: SCOPE })
    expect(request?.headers['user-agent']).toMatch(/^azcred\//)
  })

  it('serves the second call in the token lifetime from the cache, without a request', async () => {
    const credential = credentialFor(emulator.registerApp())
    const first = await credential.getToken([SCOPE])
    const second = await credential.getToken(SCOPE)
    expect(second.token).toBe(first.token)
    expect(emulator.requestsTo('/token')).toHaveLength(1)
  })

  it('keeps separate cache entries per scope', async () => {
    const credential = credentialFor(emulator.registerApp())
    const management = await credential.getToken(SCOPE)
    const vault = await credential.getToken('https://vault.azure.net/.default')
    expect(decodeJwt(vault.token).aud).toBe('https://vault.azure.net')
    expect(vault.token).not.toBe(management.token)
    expect(emulator.requestsTo('/token')).toHaveLength(2)
  })

  it('accepts a tenant domain name', async () => {
    const app = emulator.registerApp()
    const credential = new ClientSecretCredential('contoso.onmicrosoft.com', app.clientId, app.clientSecret, {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    expect(decodeJwt((await credential.getToken(SCOPE)).token).tid).toBe(emulator.tenantId)
  })
})

describe('failures', () => {
  it('reports a wrong secret as AZCRED_TOKEN_REQUEST_FAILED with AADSTS7000215, and never leaks the secret', async () => {
    const app = emulator.registerApp()
    const plantedSecret = 'planted~Secret-value-that-must-never-leak-0123456789'
    const credential = new ClientSecretCredential(app.tenantId, app.clientId, plantedSecret, { authorityHost: emulator.authorityHost, fetch: emulator.fetch })

    const error = await credential.getToken(SCOPE).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(TokenRequestError)
    const failure = error as TokenRequestError
    expect(failure.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
    expect(failure.aadstsCode).toBe('AADSTS7000215')
    expect(failure.status).toBe(401)
    expect(failure.error).toBe('invalid_client')
    expect(failure.traceId).toMatch(/^[0-9a-f-]{36}$/)
    expect(failure.message).toContain('AADSTS7000215')
    expect(failure.message).toContain('secret Value')
    for (const text of [
      failure.message,
      failure.stack ?? '',
      JSON.stringify(failure),
      inspect(failure, { depth: 10 }),
      inspect(credential, { depth: 10, showHidden: true }),
    ]) {
      expect(text).not.toContain(plantedSecret)
    }
  })

  it('reports an unknown app as AADSTS700016', async () => {
    const credential = credentialFor({ tenantId: emulator.tenantId, clientId: '00000000-0000-0000-0000-00000000abcd', clientSecret: 'x' })
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS700016' })
  })

  it('reports an unknown tenant as AADSTS90002', async () => {
    const app = emulator.registerApp()
    const credential = credentialFor({ ...app, tenantId: 'fabrikam.onmicrosoft.com' })
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ aadstsCode: 'AADSTS90002', status: 400 })
  })

  it('passes Entra refusing a scope that is not <resource>/.default through as AADSTS70011', async () => {
    const credential = credentialFor(emulator.registerApp())
    await expect(credential.getToken('https://graph.microsoft.com/User.Read')).rejects.toMatchObject({ aadstsCode: 'AADSTS70011' })
  })

  it.each([
    ['../x', 'character 3 is not allowed'],
    ['a/b', 'character 2 is not allowed'],
    ['', 'tenantId must be a tenant GUID'],
    ['..', "no '..'"],
    ['tenant?x=1', 'character 7 is not allowed'],
  ])('refuses tenant id %j before any request, without repeating it', (tenantId, named) => {
    const construct = () => new ClientSecretCredential(tenantId, 'client', 'secret', { authorityHost: emulator.authorityHost })
    expect(construct).toThrow(AzcredError)
    try {
      construct()
    } catch (error) {
      expect((error as AzcredError).code).toBe('AZCRED_CONFIG_INVALID')
      expect((error as AzcredError).message).toContain('tenantId')
      expect((error as AzcredError).message).toContain(named)
      if (tenantId.length > 2) expect((error as AzcredError).message).not.toContain(tenantId)
    }
    expect(emulator.requests).toHaveLength(0)
  })

  it('refuses an http: authority host, and accepts it on loopback only when allowed', async () => {
    const app = emulator.registerApp()
    expect(() => new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, { authorityHost: 'http://login.example.invalid' })).toThrow(
      /authorityHost must be an https: URL/,
    )
    expect(() => new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, { authorityHost: 'http://127.0.0.1:1' })).toThrow(
      /allowInsecureConnection/,
    )
    const plain = await startEntraEmulator({ protocol: 'http' })
    try {
      const plainApp = plain.registerApp()
      const credential = new ClientSecretCredential(plainApp.tenantId, plainApp.clientId, plainApp.clientSecret, {
        authorityHost: plain.authorityHost,
        allowInsecureConnection: true,
      })
      expect((await credential.getToken(SCOPE)).token).toMatch(/^ey/)
    } finally {
      await plain.close()
    }
  })

  it('refuses empty scopes, client id and secret with AZCRED_CONFIG_INVALID before any request', async () => {
    const app = emulator.registerApp()
    const credential = credentialFor(app)
    await expect(credential.getToken([])).rejects.toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
      message: expect.stringContaining('scopes must be a string or an array of 1 to 100 strings'),
    })
    await expect(credential.getToken(['  '])).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('scopes[0]') })
    expect(() => credentialFor({ ...app, clientId: '' })).toThrow(/clientId is empty/)
    expect(() => credentialFor({ ...app, clientSecret: ' ' })).toThrow(/clientSecret is empty/)
    expect(emulator.requests).toHaveLength(0)
  })
})

describe('multi-tenant rules', () => {
  it('refuses a per-call tenant unless it is allowed, and allows all with *', async () => {
    const other = '11111111-2222-3333-4444-555555555555'
    emulator.addTenant(other)
    const home = emulator.registerApp()
    emulator.registerApp({ tenantId: other, clientId: home.clientId, clientSecret: home.clientSecret })

    await expect(credentialFor(home).getToken(SCOPE, { tenantId: other })).rejects.toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
      message: expect.stringContaining('additionallyAllowedTenants'),
    })
    expect(emulator.requests).toHaveLength(0)

    const listed = await credentialFor(home, { additionallyAllowedTenants: [other] }).getToken(SCOPE, { tenantId: other })
    expect(decodeJwt(listed.token).tid).toBe(other)
    const wildcard = await credentialFor(home, { additionallyAllowedTenants: ['*'] }).getToken(SCOPE, { tenantId: other })
    expect(decodeJwt(wildcard.token).tid).toBe(other)
    const same = await credentialFor(home).getToken(SCOPE, { tenantId: home.tenantId.toUpperCase() })
    expect(decodeJwt(same.token).tid).toBe(home.tenantId)
  })
})

describe('on the lifecycle engine, against real HTTP faults', () => {
  it('10,000 concurrent cold calls send exactly one request', async () => {
    const credential = credentialFor(emulator.registerApp())
    const tokens = await Promise.all(Array.from({ length: 10_000 }, () => credential.getToken(SCOPE)))
    expect(new Set(tokens.map((token) => token.token)).size).toBe(1)
    expect(emulator.requestsTo('/token')).toHaveLength(1)
  })

  it('retries 503 and 500, then succeeds, reporting each retry as an event', async () => {
    const events: TokenEvent[] = []
    const credential = credentialFor(emulator.registerApp(), { retry: { baseDelayMs: 20 }, onEvent: (event: TokenEvent) => events.push(event) })
    emulator.injectFault({ kind: 'status', status: 503 }, { pathIncludes: '/token' })
    emulator.injectFault({ kind: 'status', status: 500 }, { pathIncludes: '/token' })
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token).aud).toBe('https://management.azure.com')
    expect(emulator.requestsTo('/token')).toHaveLength(3)
    expect(events.map((event) => [event.type, 'code' in event ? event.code : undefined])).toEqual([
      ['retry-scheduled', 'AZCRED_TOKEN_REQUEST_FAILED'],
      ['retry-scheduled', 'AZCRED_TOKEN_REQUEST_FAILED'],
      ['acquired', undefined],
    ])
    expect(JSON.stringify(events)).not.toContain(token.token)
  })

  it("waits out a 429's Retry-After before the next request", async () => {
    const credential = credentialFor(emulator.registerApp(), { retry: { baseDelayMs: 1 } })
    emulator.injectFault({ kind: 'status', status: 429, retryAfter: 1 }, { pathIncludes: '/token' })
    const started = Date.now()
    await credential.getToken(SCOPE)
    const [throttled, accepted] = emulator.requestsTo('/token')
    expect((accepted?.at ?? 0) - (throttled?.at ?? 0)).toBeGreaterThanOrEqual(990)
    expect(Date.now() - started).toBeGreaterThanOrEqual(990)
  })

  it('does not retry a wrong secret', async () => {
    const app = emulator.registerApp()
    const credential = credentialFor({ ...app, clientSecret: 'wrong' })
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ aadstsCode: 'AADSTS7000215' })
    expect(emulator.requestsTo('/token')).toHaveLength(1)
  })

  it("uses Entra's refresh_in: a refresh in the background while the old token is served", async () => {
    // core honours a refresh_in of at least MIN_TOKEN_LIFETIME_MS (60 s); the clock is moved past it.
    const refreshing = await startEntraEmulator({ refreshInSeconds: 60 })
    try {
      const app = refreshing.registerApp()
      const credential = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
        authorityHost: refreshing.authorityHost,
        fetch: refreshing.fetch,
      })
      const first = await credential.getToken(SCOPE)
      expect(first.refreshAfterTimestamp).toBeLessThanOrEqual(Date.now() + 60_000)
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 })
      expect((await credential.getToken(SCOPE)).token).toBe(first.token) // served at once, refresh started
      await vi.waitFor(() => expect(refreshing.requestsTo('/token')).toHaveLength(2))
      await vi.waitFor(async () => expect((await credential.getToken(SCOPE)).token).not.toBe(first.token))
      expect(refreshing.requestsTo('/token')).toHaveLength(2)
    } finally {
      vi.useRealTimers()
      await refreshing.close()
    }
  })
})
