import { startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterEach, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import { ManagedIdentityCredential } from './index'

// `.` off Node (the runtime-agnostic build): this file also runs under edge-runtime's globals.
afterEach(() => {
  vi.unstubAllEnvs()
})

it.each(['imds', 'app-service', 'azure-ml', 'cloud-shell'] as const)('the runtime-agnostic build gets a token from %s with fetch alone', async (host) => {
  const endpoint = await startManagedIdentityEndpoint({ host })
  try {
    hostEnvironment(endpoint.env)
    const credential = new ManagedIdentityCredential()
    expect(credential.source.name).toBe(host)
    const token = await credential.getToken('https://storage.azure.com/.default')
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: endpoint.systemAssigned.objectId })
  } finally {
    await endpoint.close()
  }
})
