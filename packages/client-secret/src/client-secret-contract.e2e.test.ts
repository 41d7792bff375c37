// Proves the emulator's fidelity: the official @azure/identity ClientSecretCredential (MSAL
// inside) gets a token from it, through the same endpoints our credential uses.
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { ClientSecretCredential as OfficialClientSecretCredential } from '@azure/identity'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, expect, it } from 'vitest'

let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

it('the official ClientSecretCredential gets a token from the emulator', async () => {
  const app = emulator.registerApp({ roles: ['Contributor'] })
  const official = new OfficialClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
    authorityHost: emulator.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emulator.certificate },
  })

  const token = await official.getToken('https://management.azure.com/.default')

  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://management.azure.com', tid: app.tenantId, roles: ['Contributor'] })
  expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now())
  const tokenRequests = emulator.requestsTo('/oauth2/v2.0/token')
  expect(tokenRequests).toHaveLength(1)
  expect(tokenRequests[0]?.form).toMatchObject({
    grant_type: 'client_credentials',
    client_id: app.clientId,
    scope: expect.stringContaining('https://management.azure.com/.default'),
  })
})

it('the official credential sees the emulator refuse a wrong secret', async () => {
  const app = emulator.registerApp()
  const official = new OfficialClientSecretCredential(app.tenantId, app.clientId, 'wrong-secret', {
    authorityHost: emulator.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emulator.certificate },
  })
  await expect(official.getToken('https://management.azure.com/.default')).rejects.toThrow(/AADSTS7000215/)
})
