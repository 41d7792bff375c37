// Proves the emulator's fidelity: the official @azure/identity ManagedIdentityCredential (MSAL
// inside) gets tokens from the emulated App Service endpoint.
import { type ManagedIdentityEndpoint, startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { ManagedIdentityCredential as OfficialManagedIdentityCredential } from '@azure/identity'
import { decodeJwt } from 'jose'
import { afterEach, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'

// MSAL remembers the detected source for the whole process, so each host gets its own test file.
let endpoint: ManagedIdentityEndpoint | undefined

afterEach(async () => {
  vi.unstubAllEnvs()
  await endpoint?.close()
})

it('the official ManagedIdentityCredential gets a token from the emulated App Service', async () => {
  endpoint = await startManagedIdentityEndpoint({ host: 'app-service' })
  hostEnvironment(endpoint.env)
  const official = new OfficialManagedIdentityCredential()
  const token = await official.getToken('https://storage.azure.com/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: endpoint.systemAssigned.objectId })
  expect(endpoint.requests.at(-1)).toMatchObject({ query: { 'api-version': '2019-08-01' }, headers: { 'x-identity-header': endpoint.secret } })
})
