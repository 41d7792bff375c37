import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOidcIssuer, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterEach, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import { ManagedIdentityCredential } from './index.node'

afterEach(() => {
  vi.unstubAllEnvs()
})

it('uses AKS workload identity when the webhook variables are present, as the official libraries do', async () => {
  const emulator = await startEntraEmulator()
  const cluster = await createOidcIssuer('https://oidc.aks.example.invalid/cluster/')
  const folder = mkdtempSync(join(tmpdir(), 'azcred-mi-wi-'))
  try {
    emulator.trustIssuer(cluster.issuer, cluster.jwks)
    const subject = 'system:serviceaccount:default:worker'
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: cluster.issuer, subject }] })
    const tokenFile = join(folder, 'token')
    writeFileSync(tokenFile, await cluster.issue({ subject, audience: 'api://AzureADTokenExchange' }))
    hostEnvironment({
      AZURE_TENANT_ID: app.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: emulator.authorityHost,
      // An App Service variable pair too: workload identity still wins.
      IDENTITY_ENDPOINT: 'http://127.0.0.1:9/msi/token',
      IDENTITY_HEADER: 'unused',
    })
    const credential = new ManagedIdentityCredential({ clientId: app.clientId, fetch: emulator.fetch })
    expect(credential.source).toMatchObject({ name: 'workload-identity', variables: ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TENANT_ID'] })
    const token = await credential.getToken('https://vault.azure.net/.default')
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://vault.azure.net', azp: app.clientId })
    // With AZURE_CLIENT_ID set, workload identity is chosen, and it cannot select by object id.
    vi.stubEnv('AZURE_CLIENT_ID', app.clientId)
    const byObjectId = new ManagedIdentityCredential({ objectId: app.clientId, fetch: emulator.fetch })
    expect(byObjectId.source.name).toBe('workload-identity')
    await expect(byObjectId.getToken('https://vault.azure.net/.default')).rejects.toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
      message: expect.stringContaining('selects an identity by client id'),
    })
  } finally {
    await emulator.close()
    rmSync(folder, { recursive: true, force: true })
  }
})
