import { readFileSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity'
import { ClientAssertionCredential } from '@azcred/client-assertion'
import { readJwtClaims, TokenManager } from '@azcred/core'
import { type CognitoIdentityEmulator, type EntraEmulator, startCognitoIdentity, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CognitoIdentityIdStore, createCognitoTokenProvider } from './index'

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

const subjectOf = async (provider: ReturnType<typeof createCognitoTokenProvider>) => readJwtClaims(await provider.getFederatedToken({ audience: 'x' }))?.sub
const operations = (since: number) => cognito.calls.slice(since).map((call) => call.operation)
const seen = (error: unknown) => [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n')

/** A store like one in a file or a database, shared by "processes" (provider instances). */
function sharedStore(): CognitoIdentityIdStore & { value: string | undefined; writes: string[] } {
  const store = {
    value: undefined as string | undefined,
    writes: [] as string[],
    async get() {
      return store.value
    },
    async set(identityId: string) {
      store.writes.push(identityId)
      store.value = identityId
    },
  }
  return store
}

describe('a stable identity id across processes (AADSTS700213 otherwise)', () => {
  it('two providers sharing an identityIdStore present the same subject, and federate into Entra with it', async () => {
    const store = sharedStore()
    const before = cognito.calls.length
    const first = createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() })
    const firstSubject = await subjectOf(first)
    const second = createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() }) // the next process start
    const { credential } = await federate(second, POOL)
    expect(await subjectOf(second)).toBe(firstSubject)
    expect(store.writes).toEqual([firstSubject])
    expect((await credential.getToken('https://storage.azure.com/.default')).token).toMatch(/^ey/)
    expect(operations(before)).toEqual(['GetId', 'GetOpenIdToken', 'GetOpenIdToken'])
  })

  it('without a store, each provider (process) gets a new identity: the fault the store fixes', async () => {
    const one = await subjectOf(createCognitoTokenProvider({ identityPoolId: POOL, clientConfig: clientConfig() }))
    const two = await subjectOf(createCognitoTokenProvider({ identityPoolId: POOL, clientConfig: clientConfig() }))
    expect(one).not.toBe(two)
  })

  it('an identityId option is used as is: no GetId, and nothing is written to the store', async () => {
    const identityId = String(await subjectOf(createCognitoTokenProvider({ identityPoolId: POOL, clientConfig: clientConfig() })))
    const store = sharedStore()
    const before = cognito.calls.length
    const provider = createCognitoTokenProvider({ identityPoolId: POOL, identityId, identityIdStore: store, clientConfig: clientConfig() })
    expect(await subjectOf(provider)).toBe(identityId)
    expect(operations(before)).toEqual(['GetOpenIdToken'])
    expect(store.writes).toEqual([])
  })

  it('accepts a synchronous store (a Map, localStorage-like)', async () => {
    const map = new Map<string, string>()
    const store = { get: () => map.get('id'), set: (identityId: string) => void map.set('id', identityId) }
    const first = await subjectOf(createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() }))
    expect(await subjectOf(createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() }))).toBe(first)
  })

  it('concurrent first calls create one identity, not one each', async () => {
    const store = sharedStore()
    const before = cognito.calls.length
    const provider = createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() })
    const tokens = await Promise.all(Array.from({ length: 5 }, (_, index) => provider.getFederatedToken({ audience: 'x', forceRefresh: index > 0 })))
    expect(new Set(tokens.map((token) => readJwtClaims(token)?.sub)).size).toBe(1)
    expect(operations(before).filter((operation) => operation === 'GetId')).toHaveLength(1)
    expect(store.writes).toHaveLength(1)
  })

  it('the developer flow sends the stored identity id and stores the one it gets', async () => {
    const store = sharedStore()
    const developer = { providerName: 'login.contoso.app', userIdentifier: 'worker-9' }
    const first = await subjectOf(
      createCognitoTokenProvider({ identityPoolId: DEVELOPER_POOL, developer, identityIdStore: store, clientConfig: clientConfig() }),
    )
    expect(store.writes).toEqual([first])
    expect(
      await subjectOf(createCognitoTokenProvider({ identityPoolId: DEVELOPER_POOL, developer, identityIdStore: store, clientConfig: clientConfig() })),
    ).toBe(first)
    expect(store.writes).toEqual([first])
  })

  it.each([
    ['a store that fails to read', { get: () => Promise.reject(new Error('disk on fire')), set: async () => {} }, 'identityIdStore.get() failed'],
    ['a store that fails to write', { get: async () => undefined, set: () => Promise.reject(new Error('disk full')) }, 'identityIdStore.set() failed'],
    [
      'a store holding something else',
      { get: async () => 'planted-not-an-identity-id', set: async () => {} },
      'identityIdStore gave no valid Cognito identity id',
    ],
  ])('%s is AZCRED_CONFIG_INVALID, never a silent new identity', async (_name, store, message) => {
    const error = await createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() })
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) })
    expect((error as Error).message).not.toContain('planted')
  })

  it('a failed lookup is tried again on the next call', async () => {
    let failures = 1
    const store = sharedStore()
    const flaky = { get: () => (failures-- > 0 ? Promise.reject(new Error('busy')) : store.get()), set: store.set }
    const provider = createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: flaky, clientConfig: clientConfig() })
    await expect(provider.getFederatedToken({ audience: 'x' })).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
    expect(await subjectOf(provider)).toBe(store.value)
  })
})

describe('an identityIdStore that never settles, fails or answers nonsense cannot hang or leak through the provider', () => {
  const never = () => new Promise<never>(() => {})

  it('a get() that never settles ends with AZCRED_TIMEOUT after timeoutMs; the stuck lookup is dropped and the next call succeeds', async () => {
    const store = sharedStore()
    let stuck = 1
    const provider = createCognitoTokenProvider({
      identityPoolId: POOL,
      timeoutMs: 300,
      identityIdStore: { get: () => (stuck-- > 0 ? never() : store.get()), set: store.set },
      clientConfig: clientConfig(),
    })
    await expect(provider.getFederatedToken({ audience: 'x' })).rejects.toMatchObject({
      code: 'AZCRED_TIMEOUT',
      message: 'identityIdStore.get() did not answer within 300 ms: check the store it reads and writes, or raise timeoutMs',
    })
    expect(await subjectOf(provider)).toBe(store.value)
  })

  it('a get() that never settles ends with AZCRED_ABORTED when the caller aborts (default timeoutMs); the next call starts a new lookup', async () => {
    const store = sharedStore()
    let stuck = 1
    const provider = createCognitoTokenProvider({
      identityPoolId: POOL,
      identityIdStore: { get: () => (stuck-- > 0 ? never() : store.get()), set: store.set },
      clientConfig: clientConfig(),
    })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    await expect(provider.getFederatedToken({ audience: 'x', abortSignal: controller.signal })).rejects.toMatchObject({
      code: 'AZCRED_ABORTED',
      message: 'the Cognito identity id lookup was aborted by the caller (abortSignal)',
    })
    expect(await subjectOf(provider)).toBe(store.value)
  })

  it('a set() that never settles ends with AZCRED_TIMEOUT; the next call stores the same identity instead of creating another', async () => {
    const store = sharedStore()
    const attempted: string[] = []
    let stuck = 1
    const before = cognito.calls.length
    const provider = createCognitoTokenProvider({
      identityPoolId: POOL,
      timeoutMs: 300,
      identityIdStore: {
        get: store.get,
        set: (identityId) => {
          attempted.push(identityId)
          return stuck-- > 0 ? never() : store.set(identityId)
        },
      },
      clientConfig: clientConfig(),
    })
    await expect(provider.getFederatedToken({ audience: 'x' })).rejects.toMatchObject({
      code: 'AZCRED_TIMEOUT',
      message: expect.stringContaining('identityIdStore.set() did not answer within 300 ms'),
    })
    const subject = await subjectOf(provider)
    expect(attempted).toEqual([subject, subject])
    expect(store.writes).toEqual([subject])
    expect(operations(before).filter((operation) => operation === 'GetId')).toHaveLength(1)
  })

  it('one waiter aborting does not end the shared lookup for the others', async () => {
    const store = sharedStore()
    const provider = createCognitoTokenProvider({
      identityPoolId: POOL,
      identityIdStore: { get: () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200)), set: store.set },
      clientConfig: clientConfig(),
    })
    const controller = new AbortController()
    const leaving = provider.getFederatedToken({ audience: 'x', abortSignal: controller.signal })
    const staying = provider.getFederatedToken({ audience: 'x', forceRefresh: true })
    setTimeout(() => controller.abort(), 20)
    await expect(leaving).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(readJwtClaims(await staying)?.sub).toBe(store.value)
    expect(store.writes).toHaveLength(1)
  })

  it('a client whose send() never settles and ignores the abort signal still ends with AZCRED_TIMEOUT', async () => {
    const client = { send: () => never() } as unknown as CognitoIdentityClient
    await expect(
      createCognitoTokenProvider({
        identityPoolId: POOL,
        identityId: 'us-east-1:00000000-0000-0000-0000-000000000001',
        client,
        timeoutMs: 200,
      }).getFederatedToken({
        audience: 'x',
      }),
    ).rejects.toMatchObject({
      code: 'AZCRED_TIMEOUT',
      message: 'AWS Cognito Identity GetOpenIdToken did not answer within 200 ms: raise timeoutMs or check the endpoint',
    })
  })

  const SECRET = 'planted-store-secret-9f8e'
  it.each([
    ['get() throws an Error quoting a secret', { get: () => Promise.reject(new Error(SECRET)), set: async () => {} }, 'identityIdStore.get() failed (Error)'],
    [
      'get() throws synchronously',
      {
        get: () => {
          throw new TypeError(SECRET)
        },
        set: async () => {},
      },
      'identityIdStore.get() failed (TypeError)',
    ],
    [
      'get() throws an error whose name and code are secrets',
      { get: () => Promise.reject(Object.assign(new Error(SECRET), { name: 'PlantedStoreSecret', code: 'planted-store-secret' })), set: async () => {} },
      'identityIdStore.get() failed (Error)',
    ],
    ['get() throws a string', { get: () => Promise.reject(SECRET), set: async () => {} }, 'identityIdStore.get() failed (Error)'],
    [
      'set() throws a system error quoting a path',
      { get: async () => undefined, set: () => Promise.reject(Object.assign(new Error(`EACCES: open '/secrets/${SECRET}'`), { code: 'EACCES' })) },
      'identityIdStore.set() failed (EACCES)',
    ],
  ])('%s: AZCRED_CONFIG_INVALID with the name or system code only, no cause', async (_name, store, message) => {
    const error = await createCognitoTokenProvider({ identityPoolId: POOL, identityIdStore: store, clientConfig: clientConfig() })
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: `${message}: check the store it reads and writes` })
    expect((error as Error).cause).toBeUndefined()
    expect(seen(error).toLowerCase()).not.toContain('planted')
  })

  it.each([
    ['a number', 42],
    ['an object', { identityId: 'us-east-1:00000000-0000-0000-0000-000000000001' }],
    ['an array', ['us-east-1:00000000-0000-0000-0000-000000000001']],
    ['a secret', SECRET],
  ])('get() returning %s is AZCRED_CONFIG_INVALID, never a new identity, never echoed', async (_name, value) => {
    const before = cognito.calls.length
    const error = await createCognitoTokenProvider({
      identityPoolId: POOL,
      identityIdStore: { get: () => value as string, set: async () => {} },
      clientConfig: clientConfig(),
    })
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: 'identityIdStore gave no valid Cognito identity id' })
    expect(seen(error)).not.toContain('planted')
    expect(operations(before)).toEqual([])
  })
})

async function fakeCognito(host: string, handler: (response: ServerResponse) => void) {
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(String(request.headers['x-amz-target']))
    request.resume()
    handler(response)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    requests,
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('the transport: no redirect followed, bounded in time, configuration checked', () => {
  it.each([307, 302, 308])('a Cognito endpoint answering %i to another loopback address is an error; nothing reaches the target', async (status) => {
    const target = await fakeCognito('127.0.0.2', (response) =>
      response
        .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ IdentityId: 'us-east-1:00000000-0000-0000-0000-000000000001' })),
    )
    const redirecting = await fakeCognito('127.0.0.1', (response) => response.writeHead(status, { location: `${target.endpoint}/steal` }).end())
    try {
      const logins = { 'accounts.google.com': 'planted-login-token' }
      const error = await createCognitoTokenProvider({ identityPoolId: POOL, logins, clientConfig: { endpoint: redirecting.endpoint, credentials } })
        .getFederatedToken({ audience: 'x' })
        .catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status, retryable: false })
      expect((error as Error).message).toContain(`HTTP ${status} redirecting to ${target.endpoint};`)
      expect(seen(error)).not.toContain('planted-login-token')
      expect(redirecting.requests).toEqual(['AWSCognitoIdentityService.GetId'])
      expect(target.requests).toEqual([])
    } finally {
      await redirecting.close()
      await target.close()
    }
  })

  it('a Cognito endpoint that never answers ends with AZCRED_TIMEOUT after timeoutMs; a caller abort with AZCRED_ABORTED', async () => {
    const silent = await fakeCognito('127.0.0.1', () => {})
    try {
      const provider = createCognitoTokenProvider({ identityPoolId: POOL, timeoutMs: 200, clientConfig: { endpoint: silent.endpoint, credentials } })
      await expect(provider.getFederatedToken({ audience: 'x' })).rejects.toMatchObject({ code: 'AZCRED_TIMEOUT', message: expect.stringContaining('200 ms') })
      const controller = new AbortController()
      const pending = createCognitoTokenProvider({ identityPoolId: POOL, clientConfig: { endpoint: silent.endpoint, credentials } }).getFederatedToken({
        audience: 'x',
        abortSignal: controller.signal,
      })
      setTimeout(() => controller.abort(), 50)
      await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    } finally {
      await silent.close()
    }
  })

  it('an unreachable endpoint is AZCRED_NETWORK_ERROR naming the system code; the logins token appears nowhere in the error', async () => {
    const closed = await fakeCognito('127.0.0.1', () => {})
    await closed.close()
    const error = await createCognitoTokenProvider({
      identityPoolId: POOL,
      logins: { 'accounts.google.com': 'planted-login-token' },
      clientConfig: { endpoint: closed.endpoint, credentials, maxAttempts: 1 },
    })
      .getFederatedToken({ audience: 'x' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_NETWORK_ERROR', message: 'could not reach AWS Cognito Identity for GetId: ECONNREFUSED' })
    expect(seen(error)).not.toContain('planted-login-token')
    expect((error as Error).cause).toBeUndefined() // the SDK's error may quote the endpoint
  })

  it('keeps a hostile error name out of the message', async () => {
    const hostile = await fakeCognito('127.0.0.1', (response) =>
      response
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': `Planted${'x'.repeat(200)}` })
        .end(JSON.stringify({ __type: `Planted${'x'.repeat(200)}`, message: 'planted message' })),
    )
    try {
      const error = await createCognitoTokenProvider({ identityPoolId: POOL, clientConfig: { endpoint: hostile.endpoint, credentials } })
        .getFederatedToken({ audience: 'x' })
        .catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', status: 400, error: 'UnknownError' })
      expect(seen(error)).not.toContain('Planted')
    } finally {
      await hostile.close()
    }
  })

  it.each([
    [
      'an endpoint with user:password@',
      { clientConfig: { endpoint: 'https://aws:planted-password@cognito-identity.us-east-1.amazonaws.com' } },
      'must not carry user:password@',
    ],
    ['a malformed identityId', { identityId: 'planted-not-an-id' }, 'identityId is malformed'],
    ['timeoutMs Infinity', { timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs must be a number from 1 to 600000'],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }, 'timeoutMs must be'],
    ['timeoutMs 0', { timeoutMs: 0 }, 'timeoutMs must be'],
    ['timeoutMs negative', { timeoutMs: -1 }, 'timeoutMs must be'],
    ['timeoutMs 1e10', { timeoutMs: 1e10 }, 'timeoutMs must be'],
    ['refreshBeforeExpiryMs Infinity', { refreshBeforeExpiryMs: Number.POSITIVE_INFINITY }, 'refreshBeforeExpiryMs must be'],
    ['refreshBeforeExpiryMs negative', { refreshBeforeExpiryMs: -5 }, 'refreshBeforeExpiryMs must be'],
    [
      'tokenDurationSeconds 1e10',
      { developer: { providerName: 'p', userIdentifier: 'u', tokenDurationSeconds: 1e10 } },
      'developer.tokenDurationSeconds must be',
    ],
    ['tokenDurationSeconds 0', { developer: { providerName: 'p', userIdentifier: 'u', tokenDurationSeconds: 0 } }, 'developer.tokenDurationSeconds must be'],
  ])('refuses %s at once, without the value', (_name, extra, message) => {
    let caught: unknown
    try {
      createCognitoTokenProvider({ identityPoolId: POOL, ...(extra as object) })
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) })
    expect(seen(caught)).not.toContain('planted')
  })
})
