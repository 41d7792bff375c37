import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator } from './index'
import { claimsOf, postForm } from './user-test-helpers'

let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: 1 })
})
afterAll(async () => {
  await emulator.close()
})

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'

async function start(clientId: string, scope = 'api://orders/Orders.Read openid profile offline_access') {
  const answer = await postForm(emulator, 'devicecode', { client_id: clientId, scope })
  expect(answer.status).toBe(200)
  return answer.body as { device_code: string; user_code: string; verification_uri: string; expires_in: number; interval: number; message: string }
}

const poll = (clientId: string, deviceCode: string, extra: Record<string, string> = {}) =>
  postForm(emulator, 'token', { grant_type: DEVICE_CODE, client_id: clientId, device_code: deviceCode, ...extra })

describe('device code', () => {
  it('answers the device authorization and stays authorization_pending (70016) until approved, then issues tokens once', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'ada@contoso.onmicrosoft.com', name: 'Ada Lovelace' })
    const code = await start(app.clientId)
    expect(code).toMatchObject({ verification_uri: `${emulator.url}/devicelogin`, expires_in: 900, interval: 1 })
    expect(code.user_code).toMatch(/^[A-Z0-9]{9}$/)
    expect(code.message).toBe(
      `To sign in, use a web browser to open the page ${emulator.url}/devicelogin and enter the code ${code.user_code} to authenticate.`,
    )

    const pending = await poll(app.clientId, code.device_code)
    expect(pending.status).toBe(400)
    expect(pending.body).toMatchObject({ error: 'authorization_pending', error_codes: [70016] })
    expect(emulator.deviceCodes.latest()).toMatchObject({ userCode: code.user_code, status: 'pending', clientId: app.clientId })

    emulator.deviceCodes.approve(code.user_code, user.username)
    const tokens = await poll(app.clientId, code.device_code, { client_info: '1' })
    expect(tokens.status).toBe(200)
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'api://orders/Orders.Read openid profile offline_access', expires_in: 3600 })
    expect(String(tokens.body.refresh_token)).toMatch(/^emu-rt\./)
    const keys = (await (await emulator.fetch(`${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`)).json()) as JSONWebKeySet
    const access = await jwtVerify(String(tokens.body.access_token), createLocalJWKSet(keys), {
      audience: 'api://orders',
      issuer: `${emulator.url}/${user.tenantId}/v2.0`,
    })
    expect(access.payload).toMatchObject({ scp: 'Orders.Read', oid: user.oid, tid: user.tenantId, azp: app.clientId, idtyp: 'user', azpacr: '0' })
    const id = await jwtVerify(String(tokens.body.id_token), createLocalJWKSet(keys), {
      audience: app.clientId,
      issuer: `${emulator.url}/${user.tenantId}/v2.0`,
    })
    expect(id.payload).toMatchObject({ oid: user.oid, tid: user.tenantId, preferred_username: user.username, name: 'Ada Lovelace' })
    expect(JSON.parse(Buffer.from(String(tokens.body.client_info), 'base64url').toString('utf8'))).toEqual({ uid: user.oid, utid: user.tenantId })

    const again = await poll(app.clientId, code.device_code)
    expect(again.body).toMatchObject({ error: 'invalid_grant', error_codes: [70000] })
    expect(emulator.deviceCodes.polls(code.user_code)).toHaveLength(3)
  })

  it('serves organizations and common: the metadata issuer template, and user endpoints in the tenant of the app', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'multi@contoso.onmicrosoft.com' })
    const metadata = (await (await emulator.fetch(`${emulator.url}/organizations/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>
    expect(metadata).toMatchObject({
      issuer: `${emulator.url}/{tenantid}/v2.0`,
      token_endpoint: `${emulator.url}/organizations/oauth2/v2.0/token`,
      jwks_uri: `${emulator.url}/organizations/discovery/v2.0/keys`,
    })
    expect((await emulator.fetch(metadata.jwks_uri ?? '')).status).toBe(200)
    const started = await postForm(emulator, 'devicecode', { client_id: app.clientId, scope: 'openid' }, 'common')
    emulator.deviceCodes.approve(String(started.body.user_code), user.username)
    const answer = await postForm(
      emulator,
      'token',
      { grant_type: DEVICE_CODE, client_id: app.clientId, device_code: String(started.body.device_code) },
      'organizations',
    )
    expect(answer.status).toBe(200)
    expect((await postForm(emulator, 'devicecode', { client_id: 'unknown', scope: 'openid' }, 'common')).body.error_codes).toEqual([90002])
    const appOnly = await postForm(
      emulator,
      'token',
      { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'api://x/.default' },
      'common',
    )
    expect(appOnly.body.error_codes).toEqual([90002]) // unchanged: client credentials need a tenant
  })

  it('the verification_uri is a real page: enter the code, then sign in (or cancel)', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'by.hand@contoso.onmicrosoft.com' })
    const post = async (fields: Record<string, string>) => {
      const response = await emulator.fetch(`${emulator.url}/devicelogin`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      })
      expect(response.status).toBe(200)
      return response.text()
    }
    const code = await start(app.clientId)
    expect(await (await emulator.fetch(code.verification_uri)).text()).toContain('name="otc"')
    expect(await post({ action: 'code', otc: 'WRONGCODE' })).toContain('AADSTS70018')
    expect(await post({ action: 'code', otc: code.user_code.toLowerCase() })).toContain('type="password" name="passwd"')
    const refused = await post({ action: 'signin', otc: code.user_code, login: user.username, passwd: 'not-it' })
    expect(refused).toContain('AADSTS50126')
    expect(refused).not.toContain('not-it')
    expect((await poll(app.clientId, code.device_code)).body.error).toBe('authorization_pending')
    expect(await post({ action: 'signin', otc: code.user_code, login: user.username, passwd: user.password })).toContain('You have signed in')
    expect((await poll(app.clientId, code.device_code)).status).toBe(200)

    const cancelled = await start(app.clientId)
    expect(await post({ action: 'cancel', otc: cancelled.user_code })).toContain('Sign-in cancelled')
    expect((await poll(app.clientId, cancelled.device_code)).body.error).toBe('authorization_declined')
  })

  it("accepts MSAL's grant_type spelling device_code", async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'msal.spelling@contoso.onmicrosoft.com' })
    const code = await start(app.clientId)
    emulator.deviceCodes.approve(code.user_code, user.username)
    const answer = await postForm(emulator, 'token', { grant_type: 'device_code', client_id: app.clientId, device_code: code.device_code })
    expect(answer.status).toBe(200)
  })

  it('sends no id token without openid and no refresh token without offline_access', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'bob@contoso.onmicrosoft.com' })
    const code = await start(app.clientId, 'https://storage.azure.com/.default')
    emulator.deviceCodes.approve(code.user_code, user.username)
    const tokens = await poll(app.clientId, code.device_code)
    expect(tokens.status).toBe(200)
    expect(tokens.body).not.toHaveProperty('id_token')
    expect(tokens.body).not.toHaveProperty('refresh_token')
    expect(tokens.body).not.toHaveProperty('client_info')
    expect(claimsOf(tokens.body)).toMatchObject({ aud: 'https://storage.azure.com', scp: 'user_impersonation' })
  })

  it.each([
    ['deny', 'authorization_declined', 65004],
    ['expire', 'expired_token', 70020],
    ['slowDown', 'slow_down', 70016],
  ] as const)('%s → %s', async (action, error, code) => {
    const app = emulator.registerApp({ publicClient: true })
    const started = await start(app.clientId)
    emulator.deviceCodes[action](started.user_code)
    const answer = await poll(app.clientId, started.device_code)
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ error, error_codes: [code] })
    expect(String(answer.body.error_description)).toMatch(new RegExp(`^AADSTS${code}: `))
    if (action === 'slowDown') expect((await poll(app.clientId, started.device_code)).body.error).toBe('authorization_pending')
  })

  it('expires a code after expires_in', async () => {
    const short = await startEntraEmulator({ deviceCodeLifetimeSeconds: 0 })
    try {
      const app = short.registerApp({ publicClient: true })
      const started = await postForm(short, 'devicecode', { client_id: app.clientId, scope: 'openid' })
      const answer = await postForm(short, 'token', { grant_type: DEVICE_CODE, client_id: app.clientId, device_code: String(started.body.device_code) })
      expect(answer.body.error).toBe('expired_token')
    } finally {
      await short.close()
    }
  })

  it('refuses a device code it did not issue to this client (bad_verification_code 70018)', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const other = emulator.registerApp({ publicClient: true })
    const started = await start(app.clientId)
    expect((await poll(other.clientId, started.device_code)).body).toMatchObject({ error: 'bad_verification_code', error_codes: [70018] })
    expect((await poll(app.clientId, 'made-up')).body).toMatchObject({ error: 'bad_verification_code', error_codes: [70018] })
    expect(emulator.deviceCodes.polls(started.user_code)).toEqual([])
  })

  it('requires client authentication from a confidential client', async () => {
    const app = emulator.registerApp()
    const user = emulator.addUser({ username: 'carol@contoso.onmicrosoft.com' })
    const started = await start(app.clientId)
    emulator.deviceCodes.approve(started.user_code, user.username)
    expect((await poll(app.clientId, started.device_code)).body).toMatchObject({ error: 'invalid_client', error_codes: [7000218] })
    expect((await poll(app.clientId, started.device_code, { client_secret: app.clientSecret })).status).toBe(200)
  })

  it('refuses an unknown client (700016) and a missing scope (900144) at /devicecode', async () => {
    const app = emulator.registerApp({ publicClient: true })
    expect((await postForm(emulator, 'devicecode', { client_id: 'nope', scope: 'openid' })).body.error_codes).toEqual([700016])
    expect((await postForm(emulator, 'devicecode', { client_id: app.clientId })).body.error_codes).toEqual([900144])
  })

  it('scopes of several resources at /devicecode: consent to all of them up front, tokens for the first one named', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'multi@contoso.onmicrosoft.com', consentedResources: [] })
    const started = await start(app.clientId, 'api://a/X openid offline_access api://b/Y https://storage.azure.com/user_impersonation')
    emulator.deviceCodes.approve(started.user_code, user.username)
    const answer = await poll(app.clientId, started.device_code)
    expect(claimsOf(answer.body)).toMatchObject({ aud: 'api://a', scp: 'X' })
    for (const scope of ['api://b/Y', 'https://storage.azure.com/.default']) {
      const redeemed = await postForm(emulator, 'token', {
        grant_type: 'refresh_token',
        client_id: app.clientId,
        refresh_token: answer.body.refresh_token as string,
        scope,
      })
      expect(redeemed.status).toBe(200)
    }
    const refused = await postForm(emulator, 'token', {
      grant_type: 'refresh_token',
      client_id: app.clientId,
      refresh_token: answer.body.refresh_token as string,
      scope: 'api://c/Z',
    })
    expect(refused.body.error_codes).toEqual([65001])
  })

  it('waitForPending resolves with a code issued later, and the control API refuses unknown codes and users', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const waiting = emulator.deviceCodes.waitForPending({ clientId: app.clientId, timeoutMs: 2000 })
    const started = await start(app.clientId)
    expect((await waiting).userCode).toBe(started.user_code)
    expect(() => emulator.deviceCodes.approve('NOSUCHCODE', 'ada@contoso.onmicrosoft.com')).toThrow(/no device code/)
    expect(() => emulator.deviceCodes.approve(started.user_code, 'nobody@contoso.onmicrosoft.com')).toThrow(/no user/)
    await expect(emulator.deviceCodes.waitForPending({ clientId: 'none', timeoutMs: 50 })).rejects.toThrow(/no pending device code/)
  })
})
