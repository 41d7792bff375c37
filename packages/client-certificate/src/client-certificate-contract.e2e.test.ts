// The official @azure/identity ClientCertificateCredential gets a token from the emulator, which
// verifies its assertion against the uploaded certificate.
import { readFileSync } from 'node:fs'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { ClientCertificateCredential as OfficialClientCertificateCredential } from '@azure/identity'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, expect, it } from 'vitest'

let emulator: EntraEmulator
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

it('the official ClientCertificateCredential authenticates with a certificate the emulator verifies', async () => {
  const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')
  const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
  const official = new OfficialClientCertificateCredential(
    app.tenantId,
    app.clientId,
    { certificate: fixture('rsa-combined.pem') },
    {
      authorityHost: emulator.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.certificate },
    },
  )
  const token = await official.getToken('https://management.azure.com/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://management.azure.com', azp: app.clientId })
  expect(emulator.requestsTo('/token')[0]?.form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
})
