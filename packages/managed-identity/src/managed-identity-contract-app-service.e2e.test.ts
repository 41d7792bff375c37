// Proves the emulator's fidelity: the official @azure/identity ManagedIdentityCredential (MSAL
// inside) gets tokens from the emulated App Service endpoint.
import { ManagedIdentityCredential as OfficialManagedIdentityCredential } from '@azure/identity'
import { decodeJwt } from 'jose'
import { expect, it } from 'vitest'
import { useHostEndpoint } from './__fixtures__/host-environment'

// MSAL remembers the detected source for the whole process, so each host gets its own test file.
const start = useHostEndpoint()

it('the official ManagedIdentityCredential gets a token from the emulated App Service', async () => {
  const endpoint = await start('app-service')
  const official = new OfficialManagedIdentityCredential()
  const token = await official.getToken('https://storage.azure.com/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: endpoint.systemAssigned.objectId })
  expect(endpoint.requests.at(-1)).toMatchObject({ query: { 'api-version': '2019-08-01' }, headers: { 'x-identity-header': endpoint.secret } })
})
