import { readFileSync } from 'node:fs'
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity'
import { ClientAssertionCredential } from '@azcred/client-assertion'
import { readJwtClaims, TokenManager } from '@azcred/core'
import { type CognitoIdentityEmulator, type EntraEmulator, startCognitoIdentity, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCognitoTokenProvider } from './index'

const POOL = 'us-east-1:0d0d0d0d-1111-2222-3333-444444444444'
const OTHER_POOL = 'us-east-1:0e0e0e0e-1111-2222-3333-444444444444'
const DEVELOPER_POOL = 'us-east-1:0f0f0f0f-1111-2222-3333-444444444444'
// Static test credentials, so the SDK never walks its default chain (which could probe EC2 IMDS).
const credentials = { accessKeyId: 'AKIDAZCREDTEST', secretAccessKey: 'azcred-test-secret' }
let cognito: CognitoIdentityEmulator
let emulator: EntraEmulator

beforeAll(async () => {
  cognito = await startCognitoIdentity()
  cognito.addPool({ identityPoolId: POOL })
  cognito.addPool({ identityPoolId: OTHER_POOL })
  cognito.addPool({ identityPoolId: DEVELOPER_POOL, allowUnauthenticated: false, developerProviderName: 'login.contoso.app' })
  emulator = await startEntraEmulator()
  emulator.trustIssuer(cognito.issuer.issuer, cognito.issuer.jwks)
})
afterAll(async () => {
  await emulator.close()
  await cognito.close()
})

const clientConfig = () => ({ endpoint: cognito.endpoint, credentials })

async function federate(provider: ReturnType<typeof createCognitoTokenProvider>, pool: string) {
  const presented = readJwtClaims(await provider.getFederatedToken({ audience: 'ignored' })) ?? {}
  const app = emulator.registerApp({
    federatedCredentials: [{ issuer: 'https://cognito-identity.amazonaws.com', subject: String(presented.sub), audiences: [pool] }],
  })
  return {
    app,
    credential: new ClientAssertionCredential(app.tenantId, app.clientId, provider, { authorityHost: emulator.authorityHost, fetch: emulator.fetch }),
  }
}

describe('createCognitoTokenProvider with the real AWS SDK client', () => {
  it('basic flow: GetId once, GetOpenIdToken, and the token federates into Entra end to end', async () => {
    const before = cognito.calls.length
    const provider = createCognitoTokenProvider({ identityPoolId: POOL, clientConfig: clientConfig() })
    const { credential } = await federate(provider, POOL)
    expect((await credential.getToken('https://storage.azure.com/.default')).token).toMatch(/^ey/)
    await provider.getFederatedToken({ audience: 'x', forceRefresh: true })
    expect(cognito.calls.slice(before).map((call) => call.operation)).toEqual(['GetId', 'GetOpenIdToken', 'GetOpenIdToken'])
  })

  it('developer flow: SigV4-signed GetOpenIdTokenForDeveloperIdentity with a token duration', async () => {
    const before = cognito.calls.length
    const provider = createCognitoTokenProvider({
      identityPoolId: DEVELOPER_POOL,
      developer: { providerName: 'login.contoso.app', userIdentifier: 'worker-7', tokenDurationSeconds: 1200 },
      clientConfig: clientConfig(),
    })
    const token = await provider.getFederatedToken({ audience: 'x' })
    const claims = readJwtClaims(token) ?? {}
    expect(claims.aud).toBe(DEVELOPER_POOL)
    expect(Number(claims.exp) - Number(claims.iat)).toBe(1200)
    expect(cognito.calls.slice(before)).toEqual([{ operation: 'GetOpenIdTokenForDeveloperIdentity', signed: true }])
    const { credential } = await federate(provider, DEVELOPER_POOL)
    expect((await credential.getToken('https://vault.azure.net/.default')).token).toMatch(/^ey/)
  })

  it('several pools in one process, held by a TokenManager, each with its own identity', async () => {
    const manager = new TokenManager()
    const subjects = new Set<string>()
    for (const [name, pool] of [
      ['pool-a', POOL],
      ['pool-b', OTHER_POOL],
    ] as const) {
      const provider = createCognitoTokenProvider({ identityPoolId: pool, client: new CognitoIdentityClient({ region: 'us-east-1', ...clientConfig() }) })
      const { credential } = await federate(provider, pool)
      subjects.add(String(readJwtClaims(await provider.getFederatedToken({ audience: 'x' }))?.sub))
      manager.add(name, credential, { scopes: 'https://management.azure.com/.default' })
    }
    await manager.start()
    expect(subjects.size).toBe(2)
    expect(readJwtClaims((await manager.getToken('pool-b')).token)?.aud).toBe('https://management.azure.com')
    manager.stop()
  })

  it.each([
    [{ identityPoolId: 'us-east-1:00000000-0000-0000-0000-00000000dead' }, 'ResourceNotFoundException', 'check identityPoolId'],
    [{ identityPoolId: DEVELOPER_POOL }, 'NotAuthorizedException', 'allow unauthenticated'],
  ])('turns Cognito refusals into clear errors (%#)', async (options, name, hint) => {
    const error = await createCognitoTokenProvider({ ...options, clientConfig: clientConfig() })
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 400, error: name })
    expect((error as Error).message).toContain(hint)
    expect(JSON.stringify(error)).not.toContain(credentials.secretAccessKey)
  })

  it('refuses a malformed pool id at once', () => {
    expect(() => createCognitoTokenProvider({ identityPoolId: 'pool' })).toThrow(/identityPoolId/)
  })

  it('imports the AWS SDK only on first use (no static import in the build)', () => {
    const built = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8')
    expect(built).not.toMatch(/from\s*["']@aws-sdk/)
    expect(built).toMatch(/import\(\s*["']@aws-sdk\/client-cognito-identity["']\s*\)/)
  })
})
