import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOidcIssuer, type EntraEmulator, startEntraEmulator } from './index'
import { claimsOf, postForm } from './user-test-helpers'

let emulator: EntraEmulator
let userCount = 0

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

const newUser = (options: { consentedResources?: string[] } = {}) => {
  userCount += 1
  return emulator.addUser({ username: `obo${userCount}@contoso.onmicrosoft.com`, ...options })
}

const obo = (
  clientId: string,
  clientSecret: string,
  assertion: string,
  scope = 'https://storage.azure.com/.default offline_access',
  extra: Record<string, string> = {},
) =>
  postForm(emulator, 'token', {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    requested_token_use: 'on_behalf_of',
    client_id: clientId,
    client_secret: clientSecret,
    assertion,
    scope,
    ...extra,
  })

describe('on-behalf-of', () => {
  it("exchanges a user's token for the API (aud = client id or App ID URI) for a downstream token plus a refresh token", async () => {
    const api = emulator.registerApp({ identifierUris: ['api://orders-api'] })
    const user = newUser()
    for (const audience of [api.clientId, 'api://orders-api']) {
      const assertion = await emulator.issueUserToken({ username: user.username, audience })
      const answer = await obo(api.clientId, api.clientSecret, assertion)
      expect(answer.status).toBe(200)
      expect(claimsOf(answer.body)).toMatchObject({
        aud: 'https://storage.azure.com',
        oid: user.oid,
        tid: user.tenantId,
        azp: api.clientId,
        scp: 'user_impersonation',
      })
      expect(answer.body.refresh_token).toEqual(expect.stringMatching(/^emu-rt\./))
      expect(answer.body).not.toHaveProperty('id_token')
    }
    expect(api.identifierUris).toEqual(['api://orders-api'])
    const refreshed = await postForm(emulator, 'token', {
      grant_type: 'refresh_token',
      client_id: api.clientId,
      client_secret: api.clientSecret,
      refresh_token: String(
        (await obo(api.clientId, api.clientSecret, await emulator.issueUserToken({ username: user.username, audience: api.clientId }))).body.refresh_token,
      ),
      scope: 'https://vault.azure.net/.default',
    })
    expect(claimsOf(refreshed.body)).toMatchObject({ aud: 'https://vault.azure.net', oid: user.oid })
  })

  it('refuses a token for another audience (50013), an expired one (500133), a forged one (50013), a malformed one (50027)', async () => {
    const api = emulator.registerApp()
    const user = newUser()
    const other = await emulator.issueUserToken({ username: user.username, audience: 'api://someone-else' })
    expect((await obo(api.clientId, api.clientSecret, other)).body).toMatchObject({ error: 'invalid_grant', error_codes: [50013] })
    const expired = await emulator.issueUserToken({ username: user.username, audience: api.clientId, expiresInSeconds: -1 })
    expect((await obo(api.clientId, api.clientSecret, expired)).body).toMatchObject({ error: 'invalid_grant', error_codes: [500133] })
    const forger = await createOidcIssuer(`${emulator.url}/${emulator.tenantId}/v2.0`)
    const forged = await forger.issue({ subject: user.oid, audience: api.clientId, claims: { oid: user.oid, scp: 'access_as_user' } })
    expect((await obo(api.clientId, api.clientSecret, forged)).body).toMatchObject({ error: 'invalid_grant', error_codes: [50013] })
    expect((await obo(api.clientId, api.clientSecret, 'not.a.jwt')).body.error_codes).toEqual([50027])
  })

  it("refuses an app-only token as assertion and requires the calling app's credentials", async () => {
    const api = emulator.registerApp()
    const user = newUser()
    const appOnly = await postForm(emulator, 'token', {
      grant_type: 'client_credentials',
      client_id: api.clientId,
      client_secret: api.clientSecret,
      scope: `api://${api.clientId}/.default`,
    })
    expect((await obo(api.clientId, api.clientSecret, String(appOnly.body.access_token))).body.error_codes).toEqual([50013])
    const assertion = await emulator.issueUserToken({ username: user.username, audience: api.clientId })
    expect((await obo(api.clientId, 'wrong', assertion)).body.error_codes).toEqual([7000215])
    expect(
      (await obo(api.clientId, api.clientSecret, assertion, 'https://storage.azure.com/.default', { requested_token_use: 'other' })).body.error_codes,
    ).toEqual([900144])
  })

  it('consent (65001) and MFA (50076 with claims, satisfied by an mfa token) apply to the downstream resource', async () => {
    const api = emulator.registerApp()
    const shy = newUser({ consentedResources: [] })
    const refused = await obo(api.clientId, api.clientSecret, await emulator.issueUserToken({ username: shy.username, audience: api.clientId }))
    expect(refused.body).toMatchObject({ error: 'invalid_grant', error_codes: [65001], suberror: 'consent_required' })

    const user = newUser()
    emulator.requireMfa(user.username, 'https://storage.azure.com')
    const challenged = await obo(api.clientId, api.clientSecret, await emulator.issueUserToken({ username: user.username, audience: api.clientId }))
    expect(challenged.body).toMatchObject({ error: 'interaction_required', error_codes: [50076] })
    expect(typeof challenged.body.claims).toBe('string')
    const withMfa = await obo(api.clientId, api.clientSecret, await emulator.issueUserToken({ username: user.username, audience: api.clientId, mfa: true }))
    expect(withMfa.status).toBe(200)
    expect(claimsOf(withMfa.body).amr).toEqual(['pwd', 'mfa'])
  })
})
