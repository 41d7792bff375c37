// The signed-in-user path end to end against the Entra emulator: a test-only device-code credential made
// of core's pieces (UserTokenLifecycle + requestTokenGrant), with the emulator playing the user through its
// control API. Rotation, revocation, a new audience from one refresh token, background refreshes that never
// prompt, a cancelled sign-in whose polling stops, a shared cache, the chain's messages, and no secret
// (refresh token, id token, access token, device code, authorization code) in anything a user can see.
import { createHash, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { failureOf } from './__fixtures__/failure-of'
import { AzcredError, toInteractionRequired } from './azcred-error'
import { ChainedTokenCredential } from './chained-token-credential'
import { requestTokenGrant } from './entra-token'
import type { FetchLike } from './http'
import { MemoryTokenCache, type TokenCache } from './token-cache'
import type { AbortSignalLike, AccessToken, GetTokenOptions, TokenCredential } from './token-credential'
import type { TokenEvent } from './token-events'
import type { TokenRequest } from './token-lifecycle'
import type { TokenResponse } from './token-response'
import { UserTokenLifecycle, type UserTokenLifecycleConfig } from './user-token-lifecycle'

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** Test time scale: one of the emulator's "seconds" of `interval` (and slow_down's +5 s) lasts this many ms. */
const SECOND_MS = 40
const STORAGE = 'https://storage.azure.com/.default'
const VAULT = 'https://vault.azure.net/.default'
const GRAPH = 'https://graph.microsoft.com/.default'
const ARM = 'https://management.azure.com/.default'
/** How long a vi.waitFor may take on a loaded 2-core machine. */
const EVENTUALLY = { timeout: 5_000 }

/** Every secret the emulator handed out during the run, read from the answers (never from our code). */
const issuedSecrets = new Set<string>()
/** Everything a user or a log could see: errors, events, cache keys, inspected credentials. */
const exposed: string[] = []
const PLANTED_CODE = 'planted-authorization-code.Qx81'
const PLANTED_REFRESH_TOKEN = 'planted-refresh-token.Vn27'

function expose(value: unknown): void {
  if (value instanceof Error) exposed.push(value.message, String(value.stack))
  exposed.push(JSON.stringify(value) ?? '', inspect(value, { depth: 10, showHidden: true }))
}

/** The emulator's fetch, noting every token, refresh token, id token and device code its answers carry. */
function recordingFetch(emulator: EntraEmulator, refreshTokens: string[]): FetchLike {
  return async (input, init) => {
    const response = await emulator.fetch(input, init)
    const body = (await response
      .clone()
      .json()
      .catch(() => ({}))) as Record<string, unknown>
    for (const field of ['access_token', 'refresh_token', 'id_token', 'device_code']) {
      if (typeof body[field] === 'string') issuedSecrets.add(body[field])
    }
    if (typeof body.refresh_token === 'string') refreshTokens.push(body.refresh_token)
    return response
  }
}

function sleep(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AzcredError('AZCRED_ABORTED', 'aborted'))
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new AzcredError('AZCRED_ABORTED', 'aborted'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

interface TestCredentialOptions {
  tokenCache?: TokenCache
  authenticationRecord?: UserTokenLifecycleConfig['authenticationRecord']
  disableAutomaticAuthentication?: boolean
  /** No sign-in at all (a credential that only redeems what a cache holds). */
  silentOnly?: boolean
  refresh?: UserTokenLifecycleConfig['refresh']
}

/**
 * A test-only device-code credential: RFC 8628 against the emulator (POST /devicecode, then poll /token
 * every `interval`, 5 s more after each `slow_down`), inside A2's UserTokenLifecycle.
 */
class DeviceCodeTestCredential implements TokenCredential {
  readonly name = 'DeviceCodeTestCredential'
  readonly lifecycle: UserTokenLifecycle
  readonly events: TokenEvent[] = []
  /** The refresh tokens the emulator's answers gave this credential, oldest first. */
  readonly refreshTokensIssued: string[] = []
  signIns = 0

  constructor(
    readonly emulator: EntraEmulator,
    readonly clientId: string,
    options: TestCredentialOptions = {},
  ) {
    const fetch = recordingFetch(emulator, this.refreshTokensIssued)
    this.lifecycle = new UserTokenLifecycle({
      credentialName: this.name,
      tenantId: emulator.tenantId,
      clientId,
      authorityHost: emulator.authorityHost,
      fetch,
      tokenCache: options.tokenCache,
      authenticationRecord: options.authenticationRecord,
      disableAutomaticAuthentication: options.disableAutomaticAuthentication,
      refresh: options.refresh,
      onEvent: (event) => {
        this.events.push(event)
        expose(event)
      },
      interactive: options.silentOnly ? undefined : (request) => this.#deviceCode(request, fetch),
    })
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.lifecycle.getToken(scopes, options).catch((error: unknown) => {
      expose(error)
      throw error
    })
  }

  async #deviceCode(request: TokenRequest, fetch: FetchLike): Promise<TokenResponse> {
    this.signIns += 1
    const signal = request.abortSignal
    const started = await fetch(`${this.emulator.authorityHost}/${request.tenantId}/oauth2/v2.0/devicecode`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: this.clientId, scope: request.scopes.join(' ') }).toString(),
      signal: signal as AbortSignal | undefined,
    })
    const answer = (await started.json()) as { device_code: string; interval: number; expires_in: number }
    if (!started.ok) throw new AzcredError('AZCRED_RESPONSE_INVALID', `devicecode answered ${started.status}`)
    let intervalMs = answer.interval * SECOND_MS
    for (let poll = 0; poll < 200; poll++) {
      await sleep(intervalMs, signal)
      try {
        return await requestTokenGrant({
          authorityHost: this.emulator.authorityHost,
          clientId: this.clientId,
          request,
          grant: { grant_type: DEVICE_CODE_GRANT, device_code: answer.device_code, client_info: '1' },
          fetch,
        })
      } catch (error) {
        const oauthError = (error as { error?: string }).error
        if (oauthError === 'authorization_pending') continue
        if (oauthError === 'slow_down') {
          intervalMs += 5 * SECOND_MS
          continue
        }
        throw error
      }
    }
    throw new AzcredError('AZCRED_TIMEOUT', 'the device code was not approved in time')
  }
}

/** Plays the user: waits for the next pending device code of this client and approves it. */
async function approveNext(emulator: EntraEmulator, clientId: string, username: string): Promise<string> {
  const pending = await emulator.deviceCodes.waitForPending({ clientId, timeoutMs: 5_000 })
  emulator.deviceCodes.approve(pending.userCode, username)
  return pending.userCode
}

const tokenRequests = (emulator: EntraEmulator, grantType: string) => emulator.requestsTo('/oauth2/v2.0/token').filter((r) => r.form?.grant_type === grantType)
const audienceOf = (token: AccessToken): unknown => JSON.parse(Buffer.from(token.token.split('.')[1] ?? '', 'base64url').toString()).aud

let emulator: EntraEmulator
let clientId: string
let username: string
let userCounter = 0

/** A fresh user, so a revocation in one test cannot touch another. */
function newUser(): string {
  userCounter += 1
  return emulator.addUser({ username: `user${userCounter}@contoso.example` }).username
}

describe.skipIf(process.env.AZCRED_TEST_RUNTIME === 'edge')('the user path against the emulator', () => {
  beforeAll(async () => {
    emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: 1 })
  })
  beforeEach(() => {
    // One public client app per test: a device code left pending by one test is never approved by another.
    clientId = emulator.registerApp({ publicClient: true }).clientId
  })
  afterAll(async () => {
    await emulator.close()
  })
  afterEach(() => {
    emulator.refreshTokens.oldTokensStayValid = true
  })

  it('the device-code sign-in honours interval and slow_down, and gives the account', async () => {
    username = newUser()
    const credential = new DeviceCodeTestCredential(emulator, clientId)
    const token = credential.getToken(STORAGE)
    const pending = await emulator.deviceCodes.waitForPending({ clientId, timeoutMs: 5_000 })
    emulator.deviceCodes.slowDown(pending.userCode, 1)
    await vi.waitFor(() => expect(emulator.deviceCodes.polls(pending.userCode).length).toBeGreaterThanOrEqual(2), EVENTUALLY)
    emulator.deviceCodes.approve(pending.userCode, username)
    expect(audienceOf(await token)).toBe('https://storage.azure.com')
    const polls = emulator.deviceCodes.polls(pending.userCode)
    const gaps = polls.slice(1).map((at, index) => at - (polls[index] ?? 0))
    // One poll answered slow_down: the wait after it was interval + 5 s (scaled); every other the interval.
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(6 * SECOND_MS - 5)
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(SECOND_MS - 5)
    expect(credential.lifecycle.authenticationRecord).toMatchObject({ username, clientId, tenantId: emulator.tenantId })
    expose(credential.lifecycle) // the core object (the test wrapper keeps secrets in public fields on purpose)
  })

  it('a new audience from one refresh token, with no second prompt', async () => {
    username = newUser()
    const credential = new DeviceCodeTestCredential(emulator, clientId)
    const before = emulator.requestsTo('/devicecode').length
    const first = credential.getToken(STORAGE)
    await approveNext(emulator, clientId, username)
    expect(audienceOf(await first)).toBe('https://storage.azure.com')
    const refreshesBefore = tokenRequests(emulator, 'refresh_token').length

    expect(audienceOf(await credential.getToken(VAULT))).toBe('https://vault.azure.net')
    expect(audienceOf(await credential.getToken(GRAPH))).toBe('https://graph.microsoft.com')

    expect(credential.signIns).toBe(1)
    expect(emulator.requestsTo('/devicecode').length - before).toBe(1)
    const refreshes = tokenRequests(emulator, 'refresh_token').slice(refreshesBefore)
    expect(refreshes.map((r) => r.form?.scope?.split(' ')[0])).toEqual([VAULT, GRAPH])
    expect(refreshes.every((r) => r.form?.client_id === clientId && r.form?.client_secret === undefined)).toBe(true)
  })

  it('rotation: every redemption presents the newest refresh token (old ones are refused by the emulator)', async () => {
    username = newUser()
    emulator.refreshTokens.oldTokensStayValid = false
    const credential = new DeviceCodeTestCredential(emulator, clientId)
    const refreshesBefore = tokenRequests(emulator, 'refresh_token').length
    const first = credential.getToken(STORAGE)
    await approveNext(emulator, clientId, username)
    await first
    // Sequential and concurrent redemptions for new audiences.
    await credential.getToken(VAULT)
    await Promise.all([credential.getToken(GRAPH), credential.getToken(ARM)])
    const refreshes = tokenRequests(emulator, 'refresh_token').slice(refreshesBefore)
    expect(refreshes).toHaveLength(3)
    // Each redemption presented the refresh token of the answer just before it (sign-in, then each redemption).
    const presented = refreshes.map((r) => r.form?.refresh_token)
    expect(credential.refreshTokensIssued).toHaveLength(4)
    expect(presented).toEqual(credential.refreshTokensIssued.slice(0, 3))
    expect(new Set(presented).size).toBe(3)
    expect(credential.signIns).toBe(1)
  })

  it('revocation: a refused refresh token is AZCRED_INTERACTION_REQUIRED (AADSTS50173), with no prompt when automatic sign-in is off', async () => {
    username = newUser()
    const credential = new DeviceCodeTestCredential(emulator, clientId, { disableAutomaticAuthentication: true })
    const signedIn = credential.lifecycle.authenticate(STORAGE)
    await approveNext(emulator, clientId, username)
    await signedIn
    expect(emulator.refreshTokens.revoke(username)).toBeGreaterThan(0)
    const devicecodesBefore = emulator.requestsTo('/devicecode').length

    const error = await failureOf(credential.getToken(VAULT))
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(error).toMatchObject({ aadstsCode: 'AADSTS50173' })
    expect(emulator.requestsTo('/devicecode').length).toBe(devicecodesBefore)
    expect(credential.signIns).toBe(1)
    // The refused refresh token is forgotten: the next call does not present it again.
    const refreshes = tokenRequests(emulator, 'refresh_token').length
    await expect(credential.getToken(VAULT)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    expect(tokenRequests(emulator, 'refresh_token').length).toBe(refreshes)
  })

  it("an MFA rule: AZCRED_INTERACTION_REQUIRED carries Entra's claims challenge", async () => {
    username = newUser()
    const credential = new DeviceCodeTestCredential(emulator, clientId, { disableAutomaticAuthentication: true })
    const signedIn = credential.lifecycle.authenticate(STORAGE)
    await approveNext(emulator, clientId, username)
    await signedIn
    emulator.requireMfa(username, 'https://vault.azure.net')
    const error = await failureOf(credential.getToken(VAULT))
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(JSON.parse((error as unknown as { claims: string }).claims)).toHaveProperty('access_token')
  })

  it('an interactive fetch is cancelled when its only caller aborts: the emulator sees the polling stop', async () => {
    username = newUser()
    const credential = new DeviceCodeTestCredential(emulator, clientId)
    const controller = new AbortController()
    const waiting = credential.getToken(STORAGE, { abortSignal: controller.signal })
    const pending = await emulator.deviceCodes.waitForPending({ clientId, timeoutMs: 5_000 })
    await vi.waitFor(() => expect(emulator.deviceCodes.polls(pending.userCode).length).toBeGreaterThanOrEqual(2), EVENTUALLY)
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    const pollsAtAbort = emulator.deviceCodes.polls(pending.userCode).length
    await new Promise((resolve) => setTimeout(resolve, 8 * SECOND_MS))
    // At most one poll already on the wire when the abort came; none after.
    expect(emulator.deviceCodes.polls(pending.userCode).length).toBeLessThanOrEqual(pollsAtAbort + 1)
    const settled = emulator.deviceCodes.polls(pending.userCode).length
    await new Promise((resolve) => setTimeout(resolve, 8 * SECOND_MS))
    expect(emulator.deviceCodes.polls(pending.userCode).length).toBe(settled)
    expect(emulator.deviceCodes.list().find((info) => info.userCode === pending.userCode)?.status).toBe('pending')
    emulator.deviceCodes.expire(pending.userCode)
  })

  it('a sign-in shared by two callers goes on when one of them aborts', async () => {
    username = newUser()
    const credential = new DeviceCodeTestCredential(emulator, clientId)
    const controller = new AbortController()
    const leaving = credential.getToken(STORAGE, { abortSignal: controller.signal })
    const staying = credential.getToken(STORAGE)
    const pending = await emulator.deviceCodes.waitForPending({ clientId, timeoutMs: 5_000 })
    controller.abort()
    await expect(leaving).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    emulator.deviceCodes.approve(pending.userCode, username)
    expect(audienceOf(await staying)).toBe('https://storage.azure.com')
    expect(credential.signIns).toBe(1)
  })

  it('two credentials sharing one cache: the second makes no request', async () => {
    username = newUser()
    const cache = new MemoryTokenCache()
    const keys: string[] = []
    const counting: TokenCache = {
      read: (key) => {
        keys.push(key)
        return cache.read(key)
      },
      write: (key, value, expires) => {
        keys.push(key)
        return cache.write(key, value, expires)
      },
      remove: (key) => cache.remove(key),
      scrub: () => cache.scrub(),
    }
    const first = new DeviceCodeTestCredential(emulator, clientId, { tokenCache: counting })
    const signedIn = first.lifecycle.authenticate(STORAGE)
    await approveNext(emulator, clientId, username)
    const record = await signedIn
    const token = await first.getToken(STORAGE)
    await vi.waitFor(() => expect(keys.length).toBeGreaterThanOrEqual(2), EVENTUALLY) // the engine's write is not awaited

    const second = new DeviceCodeTestCredential(emulator, clientId, { tokenCache: counting, authenticationRecord: record, silentOnly: true })
    const requestsBefore = emulator.requests.length
    expect((await second.getToken(STORAGE)).token).toBe(token.token)
    expect(emulator.requests.length).toBe(requestsBefore)

    // A new audience: the second redeems the shared refresh token, silently (one refresh, no device code).
    const devicecodes = emulator.requestsTo('/devicecode').length
    expect(audienceOf(await second.getToken(VAULT))).toBe('https://vault.azure.net')
    expect(emulator.requestsTo('/devicecode').length).toBe(devicecodes)
    expect(emulator.requests.length).toBe(requestsBefore + 1)
    exposed.push(...keys)
  })

  it('the chain: skips unavailable sources, lists each reason, and stops at interaction required', async () => {
    username = newUser()
    const { EnvironmentCredential } = await import('@azure/identity')
    const saved = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_USERNAME'].map(
      (name) => [name, process.env[name]] as const,
    )
    for (const [name] of saved) delete process.env[name]
    try {
      const workloadIdentity = () => {
        throw new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'AZURE_FEDERATED_TOKEN_FILE is not set')
      }
      const user = new DeviceCodeTestCredential(emulator, clientId)
      const chain = new ChainedTokenCredential(workloadIdentity, new EnvironmentCredential(), () => user)
      const token = chain.getToken(STORAGE)
      await approveNext(emulator, clientId, username)
      expect(audienceOf(await token)).toBe('https://storage.azure.com')

      // No user signed in and automatic sign-in off: interaction required stops a chain, named by its code.
      const quiet = new DeviceCodeTestCredential(emulator, clientId, { disableAutomaticAuthentication: true })
      const after = { getToken: vi.fn() }
      const stopped = await failureOf(new ChainedTokenCredential(workloadIdentity, quiet, after).getToken(STORAGE))
      expect(stopped.code).toBe('AZCRED_INTERACTION_REQUIRED')
      expect(after.getToken).not.toHaveBeenCalled()

      // Every source unavailable: one line per source, nested chains indented.
      const exhausted = await failureOf(
        new ChainedTokenCredential(new ChainedTokenCredential(workloadIdentity, new EnvironmentCredential()), workloadIdentity).getToken(STORAGE),
      )
      expect(exhausted.code).toBe('AZCRED_SOURCE_UNAVAILABLE')
      const lines = exhausted.message.split('\n')
      expect(lines[0]).toBe('every source of the chain is unavailable (one line per source):')
      expect(lines[1]).toBe('ChainedTokenCredential: every source of the chain is unavailable (one line per source):')
      expect(lines[2]).toBe('  source 1 (workloadIdentity): AZURE_FEDERATED_TOKEN_FILE is not set')
      expect(lines[3]).toMatch(/^ {2}EnvironmentCredential: EnvironmentCredential is unavailable/)
      expect(lines[4]).toBe('source 2 (workloadIdentity): AZURE_FEDERATED_TOKEN_FILE is not set')
      expect(lines).toHaveLength(5)
      expose(stopped)
      expose(exhausted)
    } finally {
      for (const [name, value] of saved) if (value !== undefined) process.env[name] = value
    }
  })

  it('planted secrets: authorization codes (planted, and a real one redeemed twice) and a refresh token the emulator refuses appear in no error', async () => {
    const redeem = (code: string, verifier: string, redirectUri = 'http://localhost:7001/') =>
      requestTokenGrant({
        authorityHost: emulator.authorityHost,
        clientId,
        request: { scopes: [STORAGE, 'openid', 'offline_access'], tenantId: emulator.tenantId, claims: undefined, enableCae: false, background: false },
        grant: { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_info: '1' },
        fetch: recordingFetch(emulator, []),
      })
    const plantedError = await failureOf(redeem(PLANTED_CODE, 'v'.repeat(43)))
    expect(plantedError).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS9002313' })
    expose(plantedError)
    expose(toInteractionRequired(plantedError))

    // A real code: PKCE (S256) through the emulator's sign-in page, redeemed once, then refused as reused.
    const user = emulator.addUser({ username: `code${++userCounter}@contoso.example` })
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const authorize = new URL(`${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/authorize`)
    for (const [name, value] of Object.entries({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: 'http://localhost:7001/',
      scope: `${STORAGE} openid offline_access`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'state-1',
    })) {
      authorize.searchParams.set(name, value)
    }
    const browser = await emulator.signInAtAuthorize(authorize.href, { username: user.username, password: user.password })
    const code = new URL(browser.location ?? 'http://invalid/').searchParams.get('code') ?? ''
    expect(code).not.toBe('')
    issuedSecrets.add(code)
    const redeemed = await redeem(code, verifier)
    expect(redeemed.homeAccountId).toBe(`${user.oid}.${user.tenantId}`)
    expose(redeemed.idTokenClaims) // the decoded claims may be shown; the raw id token never
    const reused = await failureOf(redeem(code, verifier))
    expect(reused).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS54005' })
    expose(reused)
    expose(toInteractionRequired(reused))
    const wrongVerifier = await failureOf(redeem(code, randomBytes(32).toString('base64url')))
    expose(wrongVerifier)

    // A cache holding a refresh token the emulator never issued: redeemed, refused, reported without it.
    username = newUser()
    const cache = new MemoryTokenCache()
    const keys = new Set<string>()
    const recording: TokenCache = {
      read: (key) => cache.read(key),
      write: (key, value, expires) => {
        keys.add(key)
        return cache.write(key, value, expires)
      },
      remove: (key) => cache.remove(key),
      scrub: () => cache.scrub(),
    }
    const first = new DeviceCodeTestCredential(emulator, clientId, { tokenCache: recording })
    const signedIn = first.lifecycle.authenticate(STORAGE)
    await approveNext(emulator, clientId, username)
    const record = await signedIn
    await first.getToken(STORAGE)
    await vi.waitFor(() => expect(keys.size).toBeGreaterThanOrEqual(2), EVENTUALLY) // refresh-token entry and access-token entry
    // A copy of that cache with the refresh token replaced by the planted one.
    const planted = new MemoryTokenCache()
    const issued = first.refreshTokensIssued[0] ?? 'none'
    let replaced = 0
    for (const key of keys) {
      const value = (await cache.read(key)) ?? ''
      if (value.includes(issued)) replaced += 1
      await planted.write(key, value.split(issued).join(PLANTED_REFRESH_TOKEN), Date.now() + 3_600_000)
    }
    expect(replaced).toBeGreaterThan(0)
    const second = new DeviceCodeTestCredential(emulator, clientId, { tokenCache: planted, authenticationRecord: record, silentOnly: true })
    const refused = await failureOf(second.getToken(VAULT))
    expect(refused.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(tokenRequests(emulator, 'refresh_token').at(-1)?.form?.refresh_token).toBe(PLANTED_REFRESH_TOKEN)
    expose(refused)
  })
})

describe.skipIf(process.env.AZCRED_TEST_RUNTIME === 'edge')('background refreshes against the emulator', () => {
  let refreshing: EntraEmulator
  beforeAll(async () => {
    // core honours a refresh_in of at least 60 s; the clock (Date only) is moved past it.
    refreshing = await startEntraEmulator({ deviceCodeIntervalSeconds: 1, refreshInSeconds: 60 })
  })
  afterAll(async () => {
    vi.useRealTimers()
    await refreshing.close()
  })

  it('a background refresh runs the silent path only: a refresh token, or a refresh-failed event, never a prompt', async () => {
    const app = refreshing.registerApp({ publicClient: true })
    const user = refreshing.addUser({ username: 'background@contoso.example' }).username
    const credential = new DeviceCodeTestCredential(refreshing, app.clientId)
    const first = credential.getToken(STORAGE)
    await approveNext(refreshing, app.clientId, user)
    const token = await first
    expect(token.refreshAfterTimestamp).toBeLessThanOrEqual(Date.now() + 60_000)
    const refreshes = () => tokenRequests(refreshing, 'refresh_token').length
    try {
      // 1. Past refresh_in: the old token is served at once and a refresh-token redemption runs behind it.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 })
      expect((await credential.getToken(STORAGE)).token).toBe(token.token)
      await vi.waitFor(() => expect(refreshes()).toBe(1), EVENTUALLY)
      await vi.waitFor(async () => expect((await credential.getToken(STORAGE)).token).not.toBe(token.token), EVENTUALLY)
      const renewed = await credential.getToken(STORAGE)

      // 2. The refresh token is revoked: the next background refresh is refused and ends there.
      refreshing.refreshTokens.revoke(user)
      vi.setSystemTime(Date.now() + 61_000)
      expect((await credential.getToken(STORAGE)).token).toBe(renewed.token) // still valid: served
      await vi.waitFor(() => expect(refreshes()).toBe(2), EVENTUALLY)
      await vi.waitFor(() => expect(credential.events.some((event) => event.type === 'refresh-failed')).toBe(true), EVENTUALLY)
      const failed = credential.events.find((event) => event.type === 'refresh-failed') as { code?: string } | undefined
      expect(failed?.code).toBe('AZCRED_INTERACTION_REQUIRED')
      await new Promise((resolve) => setTimeout(resolve, 10 * SECOND_MS))
      expect(credential.signIns).toBe(1)
      expect(refreshing.requestsTo('/devicecode')).toHaveLength(1)
      expect((await credential.getToken(STORAGE)).token).toBe(renewed.token) // served until it expires
    } finally {
      vi.useRealTimers()
    }
  })
})

// Runs last: everything the tests above exposed, against every secret the emulator handed out.
describe.skipIf(process.env.AZCRED_TEST_RUNTIME === 'edge')('the planted-secret sweep of the user path', () => {
  it('sweep: no refresh token, id token, access token, device code or authorization code in any error, event, cache key or inspected credential', () => {
    const secrets = [...issuedSecrets, PLANTED_CODE, PLANTED_REFRESH_TOKEN]
    expect([...issuedSecrets].some((secret) => secret.startsWith('emu-rt.'))).toBe(true) // refresh tokens were issued
    expect([...issuedSecrets].some((secret) => secret.startsWith('emu-dc.'))).toBe(true) // device codes too
    expect(exposed.length).toBeGreaterThan(20)
    const text = exposed.join('\n')
    const leaked = secrets.filter((secret) => text.includes(secret) || text.includes(secret.slice(0, 24)))
    const where = exposed.filter((entry) => leaked.some((secret) => entry.includes(secret.slice(0, 24)))).map((entry) => entry.slice(0, 300))
    expect(where).toEqual([])
  })
})
