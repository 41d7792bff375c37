import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
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

  describe('never echoes a token, key or secret set where the token file path belongs', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXN1YmplY3QifQ.cGxhbnRlZC1zaWduYXR1cmU'
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQplantedKeyBody0123456789abcdefABCDEF\n-----END PRIVATE KEY-----\n'
    const secret = 'Xy98Q~plantedClientSecretValue1234567890ab'
    async function refusal(configure: () => WorkloadIdentityCredential) {
      const error = await configure()
        .getToken('https://vault.azure.net/.default')
        .catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
      return {
        error: error as Error,
        seen: [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n'),
      }
    }
    const direct = (app: { tenantId: string; clientId: string }, tokenFilePath: string) => () =>
      new WorkloadIdentityCredential({ ...app, tokenFilePath, authorityHost: emulator.authorityHost, fetch: emulator.fetch })

    it.each([
      ['a JWT', jwt, 'holds a token or key, not a path', ['eyJ', 'cGxhbnRlZC1zaWduYXR1cmU']],
      ['PEM text', pem, 'holds a token or key, not a path', ['plantedKeyBody', '-----BEGIN']],
      ['a client secret', secret, '(tokenFilePath) cannot be read (ENOENT)', [secret]],
      ['a path with a newline and a secret after it', `/tmp/token\n${secret}`, '(tokenFilePath) cannot be read', [secret]],
      // No pattern tells a path from a secret: these look like paths and were once echoed.
      ['an API key, 32 hex digits', '3f9a1c0e5b7d4e2f8a6c1b0d9e7f5a3c', '(tokenFilePath) cannot be read (ENOENT)', ['3f9a1c0e5b7d4e2f8a6c1b0d9e7f5a3c']],
      ['a GUID-shaped secret', '7d3c9f2e-1a4b-4c5d-8e6f-0a1b2c3d4e5f', '(tokenFilePath) cannot be read (ENOENT)', ['7d3c9f2e-1a4b-4c5d-8e6f-0a1b2c3d4e5f']],
      ['39 letters and digits', `Zq${'a1'.repeat(18)}b`, '(tokenFilePath) cannot be read (ENOENT)', [`Zq${'a1'.repeat(18)}b`]],
      ['a passphrase with spaces', 'correct horse battery staple 2024', '(tokenFilePath) cannot be read (ENOENT)', ['correct horse battery staple 2024']],
      ['a JWT without the eyJ header', 'abc.ZGVmZ2hpams.sig-value_x', '(tokenFilePath) cannot be read (ENOENT)', ['abc.ZGVmZ2hpams.sig-value_x']],
    ])('%s as tokenFilePath', async (_name, value, message, secrets) => {
      emulator.requests.length = 0
      const { error, seen } = await refusal(direct(emulator.registerApp(), value))
      expect(error.message).toContain(message)
      expect(error.message).toContain('AZURE_FEDERATED_TOKEN_FILE')
      for (const secret of secrets) expect(seen).not.toContain(secret)
      expect(emulator.requestsTo('/token')).toHaveLength(0)
    })

    it('a JWT in AZURE_FEDERATED_TOKEN_FILE', async () => {
      stubWebhookEnvironment(emulator.registerApp())
      vi.stubEnv('AZURE_FEDERATED_TOKEN_FILE', jwt)
      const { error, seen } = await refusal(() => new WorkloadIdentityCredential({ fetch: emulator.fetch }))
      expect(error.message).toBe('AZURE_FEDERATED_TOKEN_FILE (tokenFilePath) holds a token or key, not a path: set the path of the token file')
      expect(seen).not.toContain('eyJ')
    })

    it('names the variable, the system code and the fix for a path that cannot be read, never the path', async () => {
      const missing = join(folder, 'missing-token')
      const { error, seen } = await refusal(direct(emulator.registerApp(), missing))
      expect(error.message).toBe(
        'AZURE_FEDERATED_TOKEN_FILE (tokenFilePath) cannot be read (ENOENT): set the path of a file this process may read (AKS mounts the token in pods labelled azure.workload.identity/use; the value is not shown)',
      )
      expect(seen).not.toContain(missing)
      const asFolder = await refusal(direct(emulator.registerApp(), folder))
      expect(asFolder.error.message).toBe(
        'AZURE_FEDERATED_TOKEN_FILE (tokenFilePath) cannot be read (EISDIR): set the path of a file this process may read (AKS mounts the token in pods labelled azure.workload.identity/use; the value is not shown)',
      )
      expect(asFolder.seen).not.toContain(folder)
      const underFile = join(tokenFile, 'token')
      writeFileSync(tokenFile, '')
      const notFolder = await refusal(direct(emulator.registerApp(), underFile))
      expect(notFolder.error.message).toContain('(tokenFilePath) cannot be read (ENOTDIR): set the path of a file')
      expect(notFolder.seen).not.toContain(underFile)
      const empty = await refusal(direct(emulator.registerApp(), tokenFile))
      expect(empty.error.message).toBe('AZURE_FEDERATED_TOKEN_FILE (tokenFilePath) names an empty file: the token is not written yet, try again shortly')
    })
  })

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, 1e10, '300000'])('refuses tokenFileMaxAgeMs %s at construction', (value) => {
    expect(
      () =>
        new WorkloadIdentityCredential({
          tenantId: 'contoso.onmicrosoft.com',
          clientId: 'client',
          tokenFilePath: tokenFile,
          tokenFileMaxAgeMs: value as number,
        }),
    ).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('tokenFileMaxAgeMs') }))
  })
})
