// The official @azure/identity ClientAssertionCredential gets a token from the emulator through a
// federated identity credential: the emulator checks what real Entra checks.
import { createOidcIssuer, type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { ClientAssertionCredential as OfficialClientAssertionCredential } from '@azure/identity'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, expect, it } from 'vitest'

let emulator: EntraEmulator
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

it('the official ClientAssertionCredential exchanges a federated token with the emulator', async () => {
  const issuer = await createOidcIssuer('https://token.actions.githubusercontent.com')
  emulator.trustIssuer(issuer.issuer, issuer.jwks)
  const subject = 'repo:contoso/app:environment:production'
  const app = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject }] })
  const official = new OfficialClientAssertionCredential(app.tenantId, app.clientId, () => issuer.issue({ subject, audience: 'api://AzureADTokenExchange' }), {
    authorityHost: emulator.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emulator.certificate },
  })
  const token = await official.getToken('https://vault.azure.net/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://vault.azure.net', tid: app.tenantId })
})
