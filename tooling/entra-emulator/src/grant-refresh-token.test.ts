import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator } from './index'
import { claimsOf, deviceCodeSignIn, postForm } from './user-test-helpers'

let emulator: EntraEmulator
let userCount = 0

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

function newUser(options: { consentedResources?: string[]; consentedScopes?: string[] } = {}) {
  userCount += 1
  return emulator.addUser({ username: `user${userCount}@contoso.onmicrosoft.com`, ...options })
}

async function signIn(scope = 'api://orders/Orders.Read openid offline_access', user = newUser()) {
  const app = emulator.registerApp({ publicClient: true })
  const tokens = await deviceCodeSignIn(emulator, app.clientId, user.username, scope)
  return { app, user, refreshToken: String(tokens.refresh_token) }
}

const redeem = (clientId: string, refreshToken: string, scope: string, extra: Record<string, string> = {}) =>
  postForm(emulator, 'token', { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, scope, ...extra })

describe('refresh token', () => {
  it('rotates: each redemption returns a new refresh token; the old one stays valid by default', async () => {
    const { app, user, refreshToken } = await signIn()
    const first = await redeem(app.clientId, refreshToken, 'api://orders/Orders.Read offline_access', { client_info: '1' })
    expect(first.status).toBe(200)
    expect(first.body.refresh_token).toEqual(expect.stringMatching(/^emu-rt\./))
    expect(first.body.refresh_token).not.toBe(refreshToken)
    expect(claimsOf(first.body)).toMatchObject({ aud: 'api://orders', scp: 'Orders.Read', oid: user.oid })
    expect(first.body.client_info).toBeTruthy()
    expect((await redeem(app.clientId, refreshToken, 'api://orders/Orders.Read')).status).toBe(200)
  })

  it('with oldTokensStayValid false only the newest refresh token works (70000)', async () => {
    const { app, refreshToken } = await signIn()
    emulator.refreshTokens.oldTokensStayValid = false
    try {
      const first = await redeem(app.clientId, refreshToken, 'api://orders/Orders.Read')
      expect(first.status).toBe(200)
      expect((await redeem(app.clientId, refreshToken, 'api://orders/Orders.Read')).body).toMatchObject({ error: 'invalid_grant', error_codes: [70000] })
      expect((await redeem(app.clientId, String(first.body.refresh_token), 'api://orders/Orders.Read')).status).toBe(200)
    } finally {
      emulator.refreshTokens.oldTokensStayValid = true
    }
  })

  it('redeems a token for another consented resource (a new audience without a new sign-in), with an id token on openid', async () => {
    const { app, user, refreshToken } = await signIn()
    const storage = await redeem(app.clientId, refreshToken, 'https://storage.azure.com/.default openid')
    expect(storage.status).toBe(200)
    expect(claimsOf(storage.body)).toMatchObject({ aud: 'https://storage.azure.com', scp: 'user_impersonation', oid: user.oid })
    expect(claimsOf(storage.body, 'id_token')).toMatchObject({ aud: app.clientId, oid: user.oid })
    const graph = await redeem(app.clientId, refreshToken, 'User.Read')
    expect(claimsOf(graph.body)).toMatchObject({ aud: 'https://graph.microsoft.com', scp: 'User.Read' })
  })

  it('answers consent_required 65001 for a resource the user has not consented to', async () => {
    const user = newUser({ consentedResources: [] })
    const { app, refreshToken } = await signIn('api://orders/Orders.Read offline_access', user)
    expect((await redeem(app.clientId, refreshToken, 'api://orders/Orders.Read')).status).toBe(200) // the sign-in consented
    const answer = await redeem(app.clientId, refreshToken, 'api://billing/Invoices.Read')
    expect(answer.body).toMatchObject({ error: 'invalid_grant', error_codes: [65001], suberror: 'consent_required' })
  })

  it('revocation → invalid_grant 50173; expiry → 700082', async () => {
    const revoked = await signIn()
    expect(emulator.revokeRefreshTokens(revoked.user.username)).toBe(1)
    expect((await redeem(revoked.app.clientId, revoked.refreshToken, 'api://orders/Orders.Read')).body).toMatchObject({
      error: 'invalid_grant',
      error_codes: [50173],
    })
    const expired = await signIn()
    emulator.refreshTokens.expire(expired.user.username)
    expect((await redeem(expired.app.clientId, expired.refreshToken, 'api://orders/Orders.Read')).body).toMatchObject({
      error: 'invalid_grant',
      error_codes: [700082],
    })
  })

  it('expires refresh tokens after refreshTokenLifetimeSeconds (700082)', async () => {
    const short = await startEntraEmulator({ refreshTokenLifetimeSeconds: 0 })
    try {
      const app = short.registerApp({ publicClient: true })
      const user = short.addUser({ username: 'short@contoso.onmicrosoft.com' })
      const tokens = await deviceCodeSignIn(short, app.clientId, user.username, 'openid offline_access')
      const answer = await postForm(short, 'token', {
        grant_type: 'refresh_token',
        client_id: app.clientId,
        refresh_token: String(tokens.refresh_token),
        scope: 'openid',
      })
      expect(answer.body.error_codes).toEqual([700082])
    } finally {
      await short.close()
    }
  })

  it('requireMfa → interaction_required 50076 with claims, until the user signs in again', async () => {
    const { app, user, refreshToken } = await signIn()
    emulator.requireMfa(user.username, 'api://orders')
    const refused = await redeem(app.clientId, refreshToken, 'api://orders/Orders.Read')
    expect(refused.body).toMatchObject({ error: 'interaction_required', error_codes: [50076] })
    expect(JSON.parse(String(refused.body.claims))).toMatchObject({ access_token: { capolids: { essential: true } } })
    const storage = await redeem(app.clientId, refreshToken, 'https://storage.azure.com/.default') // other resources still work
    expect(claimsOf(storage.body).amr).toEqual(['pwd'])
    const again = await deviceCodeSignIn(emulator, app.clientId, user.username, 'api://orders/Orders.Read offline_access')
    const fresh = await redeem(app.clientId, String(again.refresh_token), 'api://orders/Orders.Read')
    expect(fresh.status).toBe(200)
    expect(claimsOf(fresh.body).amr).toEqual(['pwd', 'mfa'])
  })

  it('refuses a refresh token of another client (70000), an unknown one (9002313) and a missing one (900144)', async () => {
    const { refreshToken } = await signIn()
    const other = emulator.registerApp({ publicClient: true })
    expect((await redeem(other.clientId, refreshToken, 'openid')).body.error_codes).toEqual([70000])
    expect((await redeem(other.clientId, 'emu-rt.nope', 'openid')).body.error_codes).toEqual([9002313])
    expect((await postForm(emulator, 'token', { grant_type: 'refresh_token', client_id: other.clientId, scope: 'openid' })).body.error_codes).toEqual([900144])
  })

  it('a confidential client must authenticate to redeem (7000218 / 7000215)', async () => {
    const app = emulator.registerApp()
    const user = newUser()
    const tokens = await deviceCodeSignIn(emulator, app.clientId, user.username, 'openid offline_access', { client_secret: app.clientSecret })
    const token = String(tokens.refresh_token)
    expect((await redeem(app.clientId, token, 'openid')).body.error_codes).toEqual([7000218])
    expect((await redeem(app.clientId, token, 'openid', { client_secret: 'wrong' })).body.error_codes).toEqual([7000215])
    const answer = await redeem(app.clientId, token, 'api://orders/.default', { client_secret: app.clientSecret })
    expect(answer.status).toBe(200)
    expect(claimsOf(answer.body)).toMatchObject({ azpacr: '1' })
  })
})
