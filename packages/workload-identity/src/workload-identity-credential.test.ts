import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOidcIssuer, type EntraEmulator, type OidcIssuer, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { WorkloadIdentityCredential } from './index'

const SUBJECT = 'system:serviceaccount:payments:api'
let emulator: EntraEmulator
let cluster: OidcIssuer
let folder: string
let tokenFile: string

beforeAll(async () => {
  emulator = await startEntraEmulator()
  cluster = await createOidcIssuer('https://oidc.aks.example.invalid/tenant/cluster/')
  emulator.trustIssuer(cluster.issuer, cluster.jwks)
  folder = mkdtempSync(join(tmpdir(), 'azcred-wi-'))
  tokenFile = join(folder, 'azure-identity-token')
})
afterAll(async () => {
  await emulator.close()
  rmSync(folder, { recursive: true, force: true })
})
afterEach(() => {
  vi.unstubAllEnvs()
})

function stubWebhookEnvironment(app: { tenantId: string; clientId: string }) {
  vi.stubEnv('AZURE_TENANT_ID', app.tenantId)
  vi.stubEnv('AZURE_CLIENT_ID', app.clientId)
  vi.stubEnv('AZURE_FEDERATED_TOKEN_FILE', tokenFile)
  vi.stubEnv('AZURE_AUTHORITY_HOST', emulator.authorityHost)
}

describe('WorkloadIdentityCredential', () => {
  it('reads the webhook variables and exchanges the projected token', async () => {
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: cluster.issuer, subject: SUBJECT }] })
    stubWebhookEnvironment(app)
    writeFileSync(tokenFile, `${await cluster.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' })}\n`)
    const credential = new WorkloadIdentityCredential({ fetch: emulator.fetch })
    expect((await credential.getToken('https://vault.azure.net/.default')).token).toMatch(/^ey/)
  })

  it('picks up a rotated token file without a restart: a stale cached read is retried after AADSTS700024', async () => {
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: cluster.issuer, subject: SUBJECT }] })
    stubWebhookEnvironment(app)
    // Three seconds, so it is still valid for the first exchange even on a loaded machine.
    const first = await cluster.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange', lifetimeSeconds: 3 })
    writeFileSync(tokenFile, first)
    const credential = new WorkloadIdentityCredential({ fetch: emulator.fetch })
    await credential.getToken('https://vault.azure.net/.default')

    const rotated = await cluster.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' })
    writeFileSync(tokenFile, rotated) // the kubelet rotates the file; the first read is still cached
    const expiresAt = Number(decodeJwt(first).exp) * 1000
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 100)) // ...and the first token has expired
    emulator.requests.length = 0
    await credential.getToken('https://storage.azure.com/.default')
    expect(emulator.requestsTo('/token').map((request) => request.form.client_assertion)).toEqual([first, rotated])
  })

  it('reads the file again for each exchange when tokenFileMaxAgeMs is 0', async () => {
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: cluster.issuer, subject: SUBJECT }] })
    writeFileSync(tokenFile, await cluster.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' }))
    const credential = new WorkloadIdentityCredential({
      ...app,
      tokenFilePath: tokenFile,
      tokenFileMaxAgeMs: 0,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    await credential.getToken('https://vault.azure.net/.default')
    const next = await cluster.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' })
    writeFileSync(tokenFile, next)
    emulator.requests.length = 0
    await credential.getToken('https://management.azure.com/.default')
    expect(emulator.requestsTo('/token')[0]?.form.client_assertion).toBe(next)
  })

  it('is unavailable (a chain moves on) when variables are missing, naming them', async () => {
    vi.stubEnv('AZURE_TENANT_ID', '')
    vi.stubEnv('AZURE_CLIENT_ID', 'client')
    vi.stubEnv('AZURE_FEDERATED_TOKEN_FILE', '')
    const error = await new WorkloadIdentityCredential().getToken('https://vault.azure.net/.default').catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
    expect((error as Error).message).toContain('AZURE_TENANT_ID')
    expect((error as Error).message).toContain('AZURE_FEDERATED_TOKEN_FILE')
    expect((error as Error).message).not.toContain('AZURE_CLIENT_ID')
  })

  it('is a configuration error when the token file is present in config but unreadable', async () => {
    const app = emulator.registerApp()
    const credential = new WorkloadIdentityCredential({
      ...app,
      tokenFilePath: join(folder, 'missing-token'),
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    await expect(credential.getToken('https://vault.azure.net/.default')).rejects.toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
      message: expect.stringContaining('ENOENT'),
    })
  })
})
