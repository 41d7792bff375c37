import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
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

const PLANTED = 'planted-request-token-0123456789'
const seen = (error: unknown) => [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n')

async function listen(host: string, handler: (request: { url: string; headers: IncomingHttpHeaders }, response: import('node:http').ServerResponse) => void) {
  const server: Server = createServer((request, response) => handler({ url: request.url ?? '', headers: request.headers }, response))
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('the request token never leaves for another place', () => {
  it("talks to an https ID-token endpoint (as the real runner's is) without allowInsecureConnection", async () => {
    const secure = await startGitHubActionsOidc({ protocol: 'https', subject: MAIN })
    try {
      expect(secure.requestUrl).toMatch(/^https:/)
      const token = await createGitHubTokenProvider({
        requestUrl: secure.requestUrl,
        requestToken: secure.requestToken,
        fetch: secure.fetch,
      }).getFederatedToken({
        audience: 'api://AzureADTokenExchange',
      })
      expect(token.split('.')).toHaveLength(3)
      expect(secure.audiencesRequested).toEqual(['api://AzureADTokenExchange'])
    } finally {
      await secure.close()
    }
  })

  it.each([307, 302, 308, 301])('an ID-token URL answering %i to another loopback address is an error; nothing reaches the target', async (status) => {
    const reached: IncomingHttpHeaders[] = []
    const target = await listen('127.0.0.2', (request, response) => {
      reached.push(request.headers)
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJldmlsIn0.x' }))
    })
    const runner = await listen('127.0.0.1', (_request, response) => response.writeHead(status, { location: `${target.origin}/steal?x=1` }).end())
    try {
      const error = await createGitHubTokenProvider({
        requestUrl: `${runner.origin}/idtoken?api-version=2.0`,
        requestToken: PLANTED,
        allowInsecureConnection: true,
      })
        .getFederatedToken({ audience: 'api://AzureADTokenExchange' })
        .catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', retryable: false })
      expect((error as Error).message).toContain(String(status))
      expect((error as Error).message).toContain(target.origin)
      expect((error as Error).message).not.toContain('/steal')
      expect(seen(error)).not.toContain(PLANTED)
      expect(reached).toEqual([])
    } finally {
      await runner.close()
      await target.close()
    }
  })
})

describe('configuration is checked and never echoed', () => {
  it.each([
    [
      'user:password@ in requestUrl',
      { requestUrl: 'https://runner:planted-password@127.0.0.1/idtoken', requestToken: PLANTED },
      'must not carry user:password@',
    ],
    ['user@ in requestUrl', { requestUrl: 'https://planted-password@127.0.0.1/idtoken', requestToken: PLANTED }, 'must not carry user:password@'],
    [
      'a request token with a line break',
      { requestUrl: 'https://127.0.0.1/idtoken', requestToken: `${PLANTED}\nplanted-password` },
      'is not a valid bearer token',
    ],
    ['a request token with a space', { requestUrl: 'https://127.0.0.1/idtoken', requestToken: `${PLANTED} planted-password` }, 'is not a valid bearer token'],
    ['a URL that is the token', { requestUrl: PLANTED, requestToken: PLANTED }, 'is not an absolute URL'],
  ])('%s → AZCRED_CONFIG_INVALID without the value', async (_name, options, message) => {
    const error = await createGitHubTokenProvider(options)
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) })
    expect(seen(error)).not.toContain('planted-password')
    expect(seen(error)).not.toContain(PLANTED)
  })

  it('reads user:password@ in ACTIONS_ID_TOKEN_REQUEST_URL as a configuration error too', async () => {
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', 'https://runner:planted-password@127.0.0.1/idtoken')
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', PLANTED)
    const error = await createGitHubTokenProvider()
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({
      code: 'AZCRED_CONFIG_INVALID',
      message: 'ACTIONS_ID_TOKEN_REQUEST_URL (requestUrl) must not carry user:password@: the request token is the credential',
    })
  })

  it.each([
    ['timeoutMs', Number.POSITIVE_INFINITY],
    ['timeoutMs', Number.NaN],
    ['timeoutMs', 0],
    ['timeoutMs', -1],
    ['timeoutMs', 1e10],
    ['timeoutMs', '30000'],
    ['refreshBeforeExpiryMs', Number.POSITIVE_INFINITY],
    ['refreshBeforeExpiryMs', -1],
    ['refreshBeforeExpiryMs', 1e10],
  ])('refuses %s = %s at once', (name, value) => {
    expect(() => createGitHubTokenProvider({ [name]: value })).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(`${name} must be a number from`) }),
    )
  })

  it('refuses an answer whose value is not a JWT', async () => {
    const runner = await listen('127.0.0.1', (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"value":"not a jwt"}'),
    )
    try {
      await expect(
        createGitHubTokenProvider({ requestUrl: `${runner.origin}/idtoken`, requestToken: PLANTED, allowInsecureConnection: true }).getFederatedToken({
          audience: 'x',
        }),
      ).rejects.toMatchObject({ code: 'AZCRED_RESPONSE_INVALID' })
    } finally {
      await runner.close()
    }
  })
})
