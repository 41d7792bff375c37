// The emulator's refusals never echo a secret the client presented (refresh token, authorization code,
// device code, user assertion, client secret, password): tests of azcred's planted-secret sweeps can rely on it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator } from './index'
import { deviceCodeSignIn, postForm } from './user-test-helpers'

let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

it('echoes no presented secret in any refusal of the user grants', async () => {
  const app = emulator.registerApp({ publicClient: true })
  const api = emulator.registerApp()
  const user = emulator.addUser({ username: 'secrets@contoso.onmicrosoft.com', consentedResources: [] })
  const tokens = await deviceCodeSignIn(emulator, app.clientId, user.username, 'api://orders/Orders.Read openid offline_access')
  const refreshToken = String(tokens.refresh_token)
  emulator.requireMfa(user.username, 'api://orders')
  const assertion = await emulator.issueUserToken({ username: user.username, audience: 'api://elsewhere' })
  const started = await postForm(emulator, 'devicecode', { client_id: app.clientId, scope: 'openid' })
  const deviceCode = String(started.body.device_code)
  const planted = [refreshToken, assertion, deviceCode, 'emu-ac.planted-code-0123456789', 'planted-client-secret-0123456789', user.password]

  const refusals = [
    await postForm(emulator, 'token', { grant_type: 'refresh_token', client_id: app.clientId, refresh_token: refreshToken, scope: 'api://orders/Orders.Read' }),
    await postForm(emulator, 'token', { grant_type: 'refresh_token', client_id: app.clientId, refresh_token: refreshToken, scope: 'api://billing/X' }),
    await postForm(emulator, 'token', {
      grant_type: 'refresh_token',
      client_id: api.clientId,
      refresh_token: refreshToken,
      scope: 'openid',
      client_secret: api.clientSecret,
    }),
    await postForm(emulator, 'token', { grant_type: 'device_code', client_id: app.clientId, device_code: deviceCode }),
    await postForm(emulator, 'token', {
      grant_type: 'device_code',
      client_id: api.clientId,
      device_code: deviceCode,
      client_secret: 'planted-client-secret-0123456789',
    }),
    await postForm(emulator, 'token', {
      grant_type: 'authorization_code',
      client_id: app.clientId,
      code: 'emu-ac.planted-code-0123456789',
      redirect_uri: 'http://localhost',
    }),
    await postForm(emulator, 'token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: api.clientId,
      client_secret: api.clientSecret,
      assertion,
      scope: 'https://storage.azure.com/.default',
    }),
  ]
  for (const refusal of refusals) {
    expect(refusal.status).toBeGreaterThanOrEqual(400)
    const text = JSON.stringify(refusal.body)
    for (const secret of planted) expect(text).not.toContain(secret)
  }
  expect(refusals.map((refusal) => (refusal.body.error_codes as number[])[0])).toEqual([50076, 65001, 70000, 70016, 7000215, 9002313, 50013])
})
