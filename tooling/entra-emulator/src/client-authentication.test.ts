import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JWT_BEARER_ASSERTION } from './client-authentication'
import { createOidcIssuer, type EntraEmulator, type OidcIssuer, startEntraEmulator } from './index'

let emulator: EntraEmulator
let issuer: OidcIssuer
const SUBJECT = 'system:serviceaccount:default:worker'

beforeAll(async () => {
  emulator = await startEntraEmulator()
  issuer = await createOidcIssuer('https://oidc.cluster.example.invalid')
  emulator.trustIssuer(issuer.issuer, issuer.jwks)
})
afterAll(async () => {
  await emulator.close()
})

async function exchange(clientId: string, assertion: string) {
  const response = await emulator.fetch(`${emulator.url}/${emulator.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion,
      scope: 'api://x/.default',
    }).toString(),
  })
  return { status: response.status, body: (await response.json()) as { error_codes?: number[]; error_description?: string; access_token?: string } }
}

describe('federated identity credentials', () => {
  const register = () => emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject: SUBJECT }] })

  it('exchanges a token whose issuer, subject, audience and signature match', async () => {
    const app = register()
    const answer = await exchange(app.clientId, await issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' }))
    expect(answer.status).toBe(200)
    expect(answer.body.access_token).toBeTruthy()
  })

  it.each([
    [
      'another subject',
      { subject: 'system:serviceaccount:default:other', audience: 'api://AzureADTokenExchange' },
      700213,
      "presented assertion subject 'system:serviceaccount:default:other'",
    ],
    ['another audience', { subject: SUBJECT, audience: 'api://Other' }, 700212, 'audience'],
    ['an expired token', { subject: SUBJECT, audience: 'api://AzureADTokenExchange', shiftSeconds: -3600 }, 700024, 'valid time range'],
    [
      'a lifetime over a day and an hour',
      { subject: SUBJECT, audience: 'api://AzureADTokenExchange', lifetimeSeconds: 26 * 3600 },
      70023,
      'one day and one hour',
    ],
  ])('refuses %s', async (_name, issue, code, text) => {
    const app = register()
    const answer = await exchange(app.clientId, await issuer.issue(issue))
    expect(answer.status).toBe(400)
    expect(answer.body.error_codes).toEqual([code])
    expect(answer.body.error_description).toContain(text)
  })

  it('refuses an issuer with no record (70021) and a forged signature (700027)', async () => {
    const app = register()
    const stranger = await createOidcIssuer('https://stranger.example.invalid')
    expect((await exchange(app.clientId, await stranger.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' }))).body.error_codes).toEqual([70021])
    const forger = await createOidcIssuer(issuer.issuer) // same issuer name, different key
    const forged = await exchange(app.clientId, await forger.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' }))
    expect(forged.status).toBe(401)
    expect(forged.body.error_codes).toEqual([700027])
    expect((await exchange(app.clientId, 'not-a-jwt')).body.error_codes).toEqual([50027])
  })
})
