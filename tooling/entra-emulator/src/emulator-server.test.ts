import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator } from './index'

let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator({ refreshInSeconds: 1800 })
})
afterAll(async () => {
  await emulator.close()
})
beforeEach(() => {
  emulator.clearFaults()
  emulator.requests.length = 0
})

async function postToken(form: Record<string, string>, tenant = emulator.tenantId) {
  const response = await emulator.fetch(`${emulator.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'corr-1' },
    body: new URLSearchParams(form).toString(),
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }
}

describe('client credentials', () => {
  it('issues an RS256 token verifiable with the published JWKS, with refresh_in when configured', async () => {
    const app = emulator.registerApp({ roles: ['Writer'] })
    const answer = await postToken({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'api://orders/.default',
    })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, refresh_in: 1800 })

    const metadata = (await (await emulator.fetch(`${emulator.url}/${emulator.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >
    expect(metadata.token_endpoint).toBe(`${emulator.url}/${emulator.tenantId}/oauth2/v2.0/token`)
    const jwksUri = metadata.jwks_uri ?? ''
    const keys = (await (await emulator.fetch(jwksUri)).json()) as JSONWebKeySet
    const jwks = createLocalJWKSet(keys)
    const { payload, protectedHeader } = await jwtVerify(String(answer.body.access_token), jwks, { issuer: metadata.issuer, audience: 'api://orders' })
    expect(keys.keys).toHaveLength(1)
    expect(protectedHeader.alg).toBe('RS256')
    expect(payload).toMatchObject({ tid: app.tenantId, azp: app.clientId, oid: app.servicePrincipalId, roles: ['Writer'], idtyp: 'app' })
  })

  it('answers errors in Entra shape, echoing the client-request-id as correlation id', async () => {
    const app = emulator.registerApp()
    const answer = await postToken({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'nope', scope: 'api://x/.default' })
    expect(answer.status).toBe(401)
    expect(answer.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215], correlation_id: 'corr-1' })
    expect(String(answer.body.error_description)).toMatch(/^AADSTS7000215: .* Trace ID: [0-9a-f-]{36} Correlation ID: corr-1 Timestamp: /)
    expect(String(answer.body.error_description)).not.toContain('nope')
  })

  it.each([
    [{ grant_type: 'client_credentials', scope: 'api://x/.default' }, 400, 900144],
    [{ client_id: 'x' }, 400, 900144],
    [{ grant_type: 'password', client_id: 'x' }, 400, 70003],
  ])('refuses %j', async (form, status, code) => {
    const answer = await postToken(form)
    expect(answer.status).toBe(status)
    expect(answer.body.error_codes).toEqual([code])
  })

  it('accepts HTTP Basic client authentication', async () => {
    const app = emulator.registerApp()
    const response = await emulator.fetch(`${emulator.url}/${app.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=api%3A%2F%2Fx%2F.default',
    })
    expect(response.status).toBe(200)
  })

  it('refuses an unknown tenant with AADSTS90002', async () => {
    const answer = await postToken({ grant_type: 'client_credentials' }, 'unknown.onmicrosoft.com')
    expect(answer.body.error_codes).toEqual([90002])
  })
})

describe('fault injection', () => {
  it('applies each fault to exactly one matching request, in order, and records every request', async () => {
    emulator.injectFault({ kind: 'status', status: 503, retryAfter: 3 }, { count: 2, pathIncludes: '/token' })
    emulator.injectFault({ kind: 'html', status: 502 })
    const keysUrl = `${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`

    const first = await emulator.fetch(keysUrl) // the html fault has no path filter
    expect(first.status).toBe(502)
    expect(first.headers.get('content-type')).toContain('text/html')
    expect((await emulator.fetch(keysUrl)).status).toBe(200)
    const throttled = await postToken({})
    expect(throttled.status).toBe(503)
    expect(throttled.headers.get('retry-after')).toBe('3')
    expect((await postToken({})).status).toBe(503)
    expect((await postToken({})).status).toBe(400)
    expect(emulator.requests).toHaveLength(5)
  })

  it('resets the connection and delays', async () => {
    emulator.injectFault({ kind: 'reset' })
    await expect(emulator.fetch(`${emulator.url}/x`)).rejects.toThrow()
    emulator.injectFault({ kind: 'delay', ms: 150 })
    const started = Date.now()
    await emulator.fetch(`${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })
})

describe('v1.0 tokens', () => {
  it('issues v1.0 tokens (sts.windows.net issuer, appid/appidacr, no azp) for the resources named in v1TokenResources', async () => {
    const v1 = await startEntraEmulator({ v1TokenResources: ['https://storage.azure.com/'] })
    try {
      const app = v1.registerApp({ roles: ['Storage.Reader'] })
      const token = async (scope: string) => {
        const response = await v1.fetch(`${v1.url}/${app.tenantId}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope }).toString(),
        })
        expect(response.status).toBe(200)
        return String(((await response.json()) as { access_token: string }).access_token)
      }
      const metadata = (await (await v1.fetch(`${v1.url}/${app.tenantId}/.well-known/openid-configuration`)).json()) as Record<string, string>
      expect(metadata.issuer).toBe(`https://sts.windows.net/${app.tenantId}/`)
      const jwks = createLocalJWKSet((await (await v1.fetch(metadata.jwks_uri ?? '')).json()) as JSONWebKeySet)

      const { payload } = await jwtVerify(await token('https://storage.azure.com/.default'), jwks, {
        issuer: `https://sts.windows.net/${app.tenantId}/`,
        audience: 'https://storage.azure.com',
      })
      expect(payload).toMatchObject({
        ver: '1.0',
        idp: `https://sts.windows.net/${app.tenantId}/`,
        tid: app.tenantId,
        appid: app.clientId,
        appidacr: '1',
        oid: app.servicePrincipalId,
        roles: ['Storage.Reader'],
      })
      expect(payload).not.toHaveProperty('azp')

      const other = await jwtVerify(await token('api://orders/.default'), jwks, { audience: 'api://orders' })
      expect(other.payload).toMatchObject({ iss: `${v1.url}/${app.tenantId}/v2.0`, ver: '2.0', azp: app.clientId })
    } finally {
      await v1.close()
    }
  })

  it('issues v2.0 tokens for every resource by default', async () => {
    const app = emulator.registerApp()
    const answer = await postToken({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'https://storage.azure.com/.default',
    })
    const payload = JSON.parse(Buffer.from(String(answer.body.access_token).split('.')[1] ?? '', 'base64url').toString('utf8'))
    expect(payload).toMatchObject({ iss: `${emulator.url}/${app.tenantId}/v2.0`, ver: '2.0' })
  })
})
