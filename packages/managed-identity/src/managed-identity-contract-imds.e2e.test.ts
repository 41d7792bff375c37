// Proves the emulator's fidelity: the official @azure/identity ManagedIdentityCredential (MSAL
// inside) gets tokens from the emulated IMDS endpoint.
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

it('the official ManagedIdentityCredential gets a token from the emulated IMDS', async () => {
  endpoint = await startManagedIdentityEndpoint({ host: 'imds' })
  hostEnvironment(endpoint.env)
  const identity = endpoint.userAssigned[0]
  const official = new OfficialManagedIdentityCredential({ clientId: identity?.clientId as string })
  const token = await official.getToken('https://vault.azure.net/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://vault.azure.net', oid: identity?.objectId })
  const tokenRequest = endpoint.requests.find((request) => request.headers.metadata === 'true')
  expect(tokenRequest?.query).toMatchObject({ 'api-version': '2018-02-01', resource: 'https://vault.azure.net', client_id: identity?.clientId })
})
