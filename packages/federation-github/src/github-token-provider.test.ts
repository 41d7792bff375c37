import { inspect } from 'node:util'
import { ClientAssertionCredential } from '@azcred/client-assertion'
import { type EntraEmulator, type GitHubActionsOidc, startEntraEmulator, startGitHubActionsOidc } from '@azcred/entra-emulator'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGitHubTokenProvider, describeGitHubToken } from './index'

let emulator: EntraEmulator
let github: GitHubActionsOidc
const MAIN = 'repo:contoso/app:ref:refs/heads/main'

beforeAll(async () => {
  emulator = await startEntraEmulator()
  github = await startGitHubActionsOidc({ subject: MAIN })
  emulator.trustIssuer(github.issuer.issuer, github.issuer.jwks)
})
afterAll(async () => {
  await github.close()
  await emulator.close()
})
afterEach(() => {
  vi.unstubAllEnvs()
  github.subject = MAIN
})

function runnerEnvironment() {
  vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', github.requestUrl)
  vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', github.requestToken)
}

describe('GitHub Actions federation', () => {
  it('exchanges the job token for an Entra token end to end, reusing the job token while it lives', async () => {
    runnerEnvironment()
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: 'https://token.actions.githubusercontent.com', subject: MAIN }] })
    const credential = new ClientAssertionCredential(app.tenantId, app.clientId, createGitHubTokenProvider({ allowInsecureConnection: true }), {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const before = github.audiencesRequested.length
    await credential.getToken('https://management.azure.com/.default')
    await credential.getToken('https://vault.azure.net/.default')
    expect(github.audiencesRequested.slice(before)).toEqual(['api://AzureADTokenExchange'])
  })

  it('surfaces a subject mismatch as AADSTS700213 naming the presented subject, never a token', async () => {
    runnerEnvironment()
    github.subject = 'repo:contoso/app:pull_request'
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: 'https://token.actions.githubusercontent.com', subject: MAIN }] })
    const credential = new ClientAssertionCredential(app.tenantId, app.clientId, createGitHubTokenProvider({ allowInsecureConnection: true }), {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const error = await credential.getToken('https://management.azure.com/.default').catch((caught: unknown) => caught)
    expect(error).toMatchObject({ aadstsCode: 'AADSTS700213' })
    expect((error as Error).message).toContain('sub "repo:contoso/app:pull_request"')
    const seen = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`
    expect(seen).not.toContain(github.requestToken)
    expect(seen).not.toMatch(/eyJ[\w-]+\.eyJ/)
  })

  it('describeGitHubToken shows iss, sub and aud only', async () => {
    runnerEnvironment()
    github.subject = 'repo:contoso/app:environment:production'
    expect(await describeGitHubToken({ allowInsecureConnection: true, audience: 'api://AzureADTokenExchangeUSGov' })).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:contoso/app:environment:production',
      audience: 'api://AzureADTokenExchangeUSGov',
    })
  })

  it('without the runner variables, says the job needs id-token: write', async () => {
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', '')
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', '')
    await expect(createGitHubTokenProvider().getFederatedToken({ audience: 'api://AzureADTokenExchange' })).rejects.toMatchObject({
      code: 'AZCRED_SOURCE_UNAVAILABLE',
      message: expect.stringContaining('permissions: id-token: write'),
    })
  })

  it('refuses to send the request token over plain http unless on loopback and allowed', async () => {
    await expect(
      createGitHubTokenProvider({ requestUrl: 'http://runner.example.invalid/idtoken', requestToken: 'planted' }).getFederatedToken({ audience: 'x' }),
    ).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    await expect(
      createGitHubTokenProvider({ requestUrl: github.requestUrl, requestToken: github.requestToken }).getFederatedToken({ audience: 'x' }),
    ).rejects.toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
    })
  })

  it('reports a wrong request token as a failed request without echoing it', async () => {
    const error = await createGitHubTokenProvider({ requestUrl: github.requestUrl, requestToken: 'planted-request-token', allowInsecureConnection: true })
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 401 })
    expect(`${(error as Error).message}${JSON.stringify(error)}`).not.toContain('planted-request-token')
  })
})
