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
      ['a client secret', secret, '(not shown) cannot be read (ENOENT)', [secret]],
      ['a path with a newline and a secret after it', `/tmp/token\n${secret}`, '(not shown) cannot be read', [secret]],
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

    it('names an ordinary path that cannot be read', async () => {
      const missing = join(folder, 'missing-token')
      const { error } = await refusal(direct(emulator.registerApp(), missing))
      expect(error.message).toContain(`"${missing}" cannot be read (ENOENT)`)
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
