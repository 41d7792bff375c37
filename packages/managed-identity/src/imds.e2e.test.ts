import { type ManagedIdentityEndpoint, startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import { ManagedIdentityCredential } from './imds'

let imds: ManagedIdentityEndpoint

beforeAll(async () => {
  imds = await startManagedIdentityEndpoint({ host: 'imds' })
})
afterAll(async () => {
  await imds.close()
})
afterEach(() => {
  vi.unstubAllEnvs()
})

it('the IMDS-only entry talks to IMDS whatever other host variables say', async () => {
  hostEnvironment({ IDENTITY_ENDPOINT: 'http://127.0.0.1:9/msi/token', IDENTITY_HEADER: 'unused', AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url })
  const credential = new ManagedIdentityCredential(imds.userAssigned[0]?.clientId as string)
  const token = await credential.getToken('https://storage.azure.com/.default')
  expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: imds.userAssigned[0]?.objectId })
  expect(imds.requests.at(-1)?.query.client_id).toBe(imds.userAssigned[0]?.clientId)
})
