// Proves the emulator's fidelity: the official @azure/identity ManagedIdentityCredential (MSAL
// inside) gets tokens from the emulated IMDS endpoint.
import { ManagedIdentityCredential as OfficialManagedIdentityCredential } from '@azure/identity'
import { decodeJwt } from 'jose'
import { expect, it } from 'vitest'
import { useHostEndpoint } from './__fixtures__/host-environment'

// MSAL remembers the detected source for the whole process, so each host gets its own test file.
const start = useHostEndpoint()

it('the official ManagedIdentityCredential gets a token from the emulated IMDS', async () => {
  const endpoint = await start('imds')
  const identity = endpoint.userAssigned[0]
  const official = new OfficialManagedIdentityCredential({ clientId: identity?.clientId as string })
  const token = await official.getToken('https://vault.azure.net/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://vault.azure.net', oid: identity?.objectId })
  const tokenRequest = endpoint.requests.find((request) => request.headers.metadata === 'true')
  expect(tokenRequest?.query).toMatchObject({ 'api-version': '2018-02-01', resource: 'https://vault.azure.net', client_id: identity?.clientId })
})
