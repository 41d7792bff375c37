// DeviceCodeCredential against the Entra emulator (tooling/entra-emulator), which plays the user through
// its control API: the prompt, polling at `interval` and slow_down (the emulator's recorded poll times),
// declined / expired / bad codes, the time limit, abort mid-poll, disableAutomaticAuthentication,
// authenticate() → record → a silent restart, new audiences from one sign-in, consent for a new resource,
// lost polls, and no secret (device code, refresh / id / access token) in errors, events or util.inspect.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import {
  type AbortSignalLike,
  AzcredError,
  deserializeAuthenticationRecord,
  MemoryTokenCache,
  serializeAuthenticationRecord,
  type TokenEvent,
  type TokenRequest,
} from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { DeviceCodeCredential as AgnosticDeviceCodeCredential, loadPersistentCache } from './device-code-credential'
import { nodeDefaultPrompt } from './device-code-node-prompt'
import type { DeviceCodeInfo } from './device-code-sign-in'
import { deviceCodeSignIn, SLOW_DOWN_INCREMENT_MS } from './device-code-sign-in'
import { DeviceCodeCredential, type DeviceCodeCredentialOptions } from './index.node'

const ARM = 'https://management.azure.com/.default'
const STORAGE = 'https://storage.azure.com/.default'
const VAULT = 'https://vault.azure.net/.default'
/** The emulator's polling interval in these tests, in seconds (fractions are fine for the emulator). */
const INTERVAL_S = 0.2

let emulator: EntraEmulator
let clientId: string
let user: { username: string }
const issued = new Set<string>()
const exposed: string[] = []

function expose(value: unknown): void {
  if (value instanceof Error) exposed.push(value.message, String(value.stack))
  exposed.push(JSON.stringify(value) ?? '', inspect(value, { depth: 10, showHidden: true }))
}

/** The emulator's fetch, noting every secret its answers carry. */
async function recordingFetch(input: string, init?: RequestInit): Promise<Response> {
  const response = await emulator.fetch(input, init)
  const body = (await response
    .clone()
    .json()
    .catch(() => ({}))) as Record<string, unknown>
  for (const field of ['access_token', 'refresh_token', 'id_token', 'device_code']) if (typeof body[field] === 'string') issued.add(body[field])
  return response
}

/** Plays the user: approves the next pending code of the app (after `afterPolls` polls). */
async function approveNext(username = user.username, afterPolls = 1): Promise<DeviceCodeInfo | undefined> {
  const pending = await emulator.deviceCodes.waitForPending({ clientId, timeoutMs: 10_000 })
  await vi.waitFor(() => expect(emulator.deviceCodes.polls(pending.userCode).length).toBeGreaterThanOrEqual(afterPolls), { timeout: 10_000 })
  emulator.deviceCodes.approve(pending.userCode, username)
  return undefined
}

function credential(options: DeviceCodeCredentialOptions = {}): DeviceCodeCredential {
  const events: TokenEvent[] = []
  const made = new DeviceCodeCredential({
    tenantId: emulator.tenantId,
    clientId,
    authorityHost: emulator.authorityHost,
    fetch: recordingFetch,
    userPromptCallback: () => {},
    onEvent: (event) => {
      events.push(event)
      expose(event)
    },
    ...options,
  })
  return made
}

async function failureOf(promise: Promise<unknown>): Promise<AzcredError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (caught: unknown) => caught,
  )
  expose(error)
  if (!AzcredError.isInstance(error)) throw error
  return error
}

const devicecodeRequests = (): number => emulator.requestsTo('/oauth2/v2.0/devicecode').length
const tokenRequests = (): number => emulator.requestsTo('/oauth2/v2.0/token').length
const audienceOf = (token: string): unknown => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).aud

beforeAll(async () => {
  emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: INTERVAL_S })
  clientId = emulator.registerApp({ publicClient: true }).clientId
  user = emulator.addUser({ username: 'ada@contoso.onmicrosoft.com' })
})
afterAll(async () => {
  await (emulator as unknown as { close(): Promise<void> }).close()
})
afterEach(() => {
  vi.restoreAllMocks()
  // A sign-in a test ended (timeout, abort, bad code) leaves its code pending: the next test must not approve it.
  for (const code of emulator.deviceCodes.list()) if (code.status === 'pending') emulator.deviceCodes.expire(code.userCode)
})

describe('DeviceCodeCredential', () => {
  it('prompts with the user code, verification URI, message and expiry, polls at the interval, and returns the token', async () => {
    const prompts: DeviceCodeInfo[] = []
    const made = credential({ userPromptCallback: (info) => void prompts.push(info) })
    const startedAt = Date.now()
    const approved = approveNext(user.username, 3)
    const token = await made.getToken(ARM)
    await approved
    expect(audienceOf(token.token)).toBe('https://management.azure.com')
    const code = emulator.deviceCodes.latest()
    expect(prompts).toHaveLength(1)
    const [info] = prompts as [DeviceCodeInfo]
    expect(info.userCode).toBe(code?.userCode)
    expect(info.verificationUri).toBe(`${emulator.url}/devicelogin`)
    expect(info.message).toContain(info.userCode)
    expect(info.expiresOn).toBeInstanceOf(Date)
    expect(Math.abs(info.expiresOn.getTime() - (startedAt + 900_000))).toBeLessThan(5_000)
    // The first poll waits one interval; each later one at least one interval after the previous.
    const polls = emulator.deviceCodes.polls(info.userCode)
    expect(polls.length).toBeGreaterThanOrEqual(4)
    for (let index = 1; index < polls.length; index += 1) {
      expect((polls[index] as number) - (polls[index - 1] as number)).toBeGreaterThanOrEqual(INTERVAL_S * 1000 - 15)
    }
    expect(made.authenticationRecord?.username).toBe(user.username)
  })

  it('sends the sign-in scopes with openid profile offline_access and client_info=1', async () => {
    const before = emulator.requests.length
    const approved = approveNext()
    await credential().getToken(ARM)
    await approved
    const devicecode = emulator.requests.slice(before).find((request) => request.path.endsWith('/devicecode'))
    expect(devicecode?.form.scope?.split(' ')).toEqual([ARM, 'openid', 'profile', 'offline_access'])
    const polls = emulator.requests.slice(before).filter((request) => request.form.device_code !== undefined)
    expect(polls.every((request) => request.form.client_info === '1')).toBe(true)
  })

  it('adds 5 s to the interval on every slow_down (RFC 8628), measured by the emulator (time scaled 1:20)', async () => {
    const scale = 20
    const waits: number[] = []
    const sleep = (ms: number, signal: AbortSignalLike | undefined): Promise<void> => {
      waits.push(ms)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms / scale)
        signal?.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(new Error('aborted'))
        })
      })
    }
    const slow = await startEntraEmulator({ deviceCodeIntervalSeconds: 1 })
    try {
      const app = slow.registerApp({ publicClient: true })
      slow.addUser({ username: 'grace@contoso.onmicrosoft.com' })
      const request: TokenRequest = {
        scopes: [ARM, 'openid', 'profile', 'offline_access'],
        tenantId: slow.tenantId,
        claims: undefined,
        enableCae: false,
        background: false,
      }
      const signIn = deviceCodeSignIn(
        {
          credentialName: 'DeviceCodeCredential',
          authorityHost: slow.authorityHost,
          clientId: app.clientId,
          prompt: (info) => slow.deviceCodes.slowDown(info.userCode, 2),
          signInTimeoutMs: undefined,
          extraScopesToConsent: [],
          fetch: slow.fetch,
          timeoutMs: undefined,
          sleep,
        },
        request,
      )
      const pending = await slow.deviceCodes.waitForPending({ clientId: app.clientId })
      await vi.waitFor(() => expect(slow.deviceCodes.polls(pending.userCode).length).toBe(4), { timeout: 10_000 })
      slow.deviceCodes.approve(pending.userCode, 'grace@contoso.onmicrosoft.com')
      const response = await signIn
      expect(response.refreshToken).toBeTypeOf('string')
      // 1 s, then two slow_down answers: 6 s, 11 s, and 11 s from then on.
      expect(waits.slice(0, 4)).toEqual([1000, 1000 + SLOW_DOWN_INCREMENT_MS, 1000 + 2 * SLOW_DOWN_INCREMENT_MS, 11_000])
      const polls = slow.deviceCodes.polls(pending.userCode)
      const gaps = polls.slice(1).map((at, index) => at - (polls[index] as number))
      // Scaled: 300 ms after the first slow_down, 550 ms after the second (the emulator's clock).
      expect(gaps[0]).toBeGreaterThanOrEqual(6000 / scale - 15)
      expect(gaps[1]).toBeGreaterThanOrEqual(11_000 / scale - 15)
      expect(gaps[0]).toBeLessThan(11_000 / scale)
    } finally {
      await (slow as unknown as { close(): Promise<void> }).close()
    }
  })

  it('a declined sign-in is AZCRED_AUTHENTICATION_CANCELLED naming AADSTS65004, and polling stops', async () => {
    const made = credential({ userPromptCallback: (info) => emulator.deviceCodes.deny(info.userCode) })
    const error = await failureOf(made.getToken(ARM))
    expect(error.code).toBe('AZCRED_AUTHENTICATION_CANCELLED')
    expect(error.message).toMatch(/declined.*AADSTS65004.*sign in again/)
    const code = emulator.deviceCodes.latest()?.userCode as string
    const polls = emulator.deviceCodes.polls(code).length
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_S * 3000))
    expect(emulator.deviceCodes.polls(code)).toHaveLength(polls)
  })

  it('an expired code is AZCRED_TOKEN_REQUEST_FAILED with AADSTS70020 and what to do', async () => {
    const made = credential({ userPromptCallback: (info) => emulator.deviceCodes.expire(info.userCode) })
    const error = await failureOf(made.getToken(ARM))
    expect(error.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
    expect((error as { aadstsCode?: string }).aadstsCode).toBe('AADSTS70020')
    expect(error.message).toMatch(/expired before the user signed in.*again for a new code/)
  })

  it('a device code Entra does not know is AZCRED_TOKEN_REQUEST_FAILED with AADSTS70018', async () => {
    const planted = 'planted-device-code.Zq93'
    const fetch = (input: string, init?: RequestInit): Promise<Response> => {
      const body =
        typeof init?.body === 'string' && init.body.includes('device_code=') ? init.body.replace(/device_code=[^&]*/, `device_code=${planted}`) : init?.body
      return recordingFetch(input, { ...init, body })
    }
    const error = await failureOf(credential({ fetch }).getToken(ARM))
    expect(error.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
    expect((error as { aadstsCode?: string }).aadstsCode).toBe('AADSTS70018')
    expect(error.message).toMatch(/did not recognise the device code.*tenantId, clientId and authorityHost/)
    issued.add(planted)
  })

  it('signInTimeoutMs ends the sign-in with AZCRED_TIMEOUT, and no poll follows', async () => {
    const made = credential({ signInTimeoutMs: INTERVAL_S * 2500 })
    const startedAt = Date.now()
    const error = await failureOf(made.getToken(ARM))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(error.message).toMatch(/signInTimeoutMs/)
    expect(Date.now() - startedAt).toBeLessThan(INTERVAL_S * 2500 + 2_000)
    const code = emulator.deviceCodes.latest()?.userCode as string
    const polls = emulator.deviceCodes.polls(code).length
    expect(polls).toBeGreaterThanOrEqual(1)
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_S * 3000))
    expect(emulator.deviceCodes.polls(code)).toHaveLength(polls)
  })

  it('signInTimeoutMs is checked: 0, negative or over an hour is AZCRED_CONFIG_INVALID', () => {
    for (const signInTimeoutMs of [0, -1, 3_600_001, Number.NaN]) {
      expect(() => credential({ signInTimeoutMs })).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    }
  })

  it('abort mid-poll: AZCRED_ABORTED, and the emulator sees no further poll', async () => {
    const controller = new AbortController()
    const made = credential()
    const pending = (async () => {
      const code = await emulator.deviceCodes.waitForPending({ clientId })
      await vi.waitFor(() => expect(emulator.deviceCodes.polls(code.userCode).length).toBeGreaterThanOrEqual(2))
      controller.abort()
      return code.userCode
    })()
    const error = await failureOf(made.getToken(ARM, { abortSignal: controller.signal }))
    expect(error.code).toBe('AZCRED_ABORTED')
    const userCode = await pending
    const polls = emulator.deviceCodes.polls(userCode).length
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_S * 4000))
    expect(emulator.deviceCodes.polls(userCode)).toHaveLength(polls)
  })

  it('disableAutomaticAuthentication: getToken is AZCRED_INTERACTION_REQUIRED without a prompt; authenticate() signs in', async () => {
    const prompt = vi.fn()
    const made = credential({ disableAutomaticAuthentication: true, userPromptCallback: prompt })
    const before = devicecodeRequests()
    const error = await failureOf(made.getToken(ARM))
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(error.message).toMatch(/authenticate\(\)/)
    expect(prompt).not.toHaveBeenCalled()
    expect(devicecodeRequests()).toBe(before)
    const approved = approveNext()
    const record = await made.authenticate(ARM)
    await approved
    expect(record.username).toBe(user.username)
    const tokenCount = tokenRequests()
    await made.getToken(ARM)
    // The sign-in's token is handed to the next getToken for its scopes.
    expect(tokenRequests()).toBe(tokenCount)
  })

  it('authenticate() → record → a new credential with the record and the same cache is signed in without a prompt or request', async () => {
    const tokenCache = new MemoryTokenCache()
    const first = credential({ tokenCache })
    const approved = approveNext()
    const record = await first.authenticate(ARM)
    await approved
    await first.getToken(ARM)
    const stored = serializeAuthenticationRecord(record)
    expect(stored).not.toMatch(/refresh|eyJ/)
    const prompt = vi.fn()
    const restarted = credential({ tokenCache, authenticationRecord: deserializeAuthenticationRecord(stored), userPromptCallback: prompt })
    const devicecodes = devicecodeRequests()
    const tokens = tokenRequests()
    const token = await restarted.getToken(ARM)
    expect(audienceOf(token.token)).toBe('https://management.azure.com')
    expect(tokenRequests()).toBe(tokens)
    // Another resource: from the cached refresh token, no prompt.
    await restarted.getToken(STORAGE)
    expect(tokenRequests()).toBe(tokens + 1)
    expect(devicecodeRequests()).toBe(devicecodes)
    expect(prompt).not.toHaveBeenCalled()
  })

  it('one sign-in, three audiences: extraScopesToConsent asks consent up front, then ARM, Storage and Key Vault need one prompt', async () => {
    const fresh = emulator.addUser({ username: 'lin@contoso.onmicrosoft.com', consentedResources: [] })
    const prompt = vi.fn()
    const made = credential({
      userPromptCallback: prompt,
      extraScopesToConsent: ['https://storage.azure.com/user_impersonation', 'https://vault.azure.net/user_impersonation'],
    })
    const devicecodes = devicecodeRequests()
    const approved = approveNext(fresh.username)
    const audiences = []
    for (const scope of [ARM, STORAGE, VAULT]) audiences.push(audienceOf((await made.getToken(scope)).token))
    await approved
    expect(audiences).toEqual(['https://management.azure.com', 'https://storage.azure.com', 'https://vault.azure.net'])
    expect(prompt).toHaveBeenCalledTimes(1)
    expect(devicecodeRequests()).toBe(devicecodes + 1)
    const devicecode = emulator.requestsTo('/oauth2/v2.0/devicecode').at(-1)
    expect(devicecode?.form.scope).toContain('https://vault.azure.net/user_impersonation')
  })

  it('a resource the user has not consented to: AZCRED_INTERACTION_REQUIRED (AADSTS65001) with automatic authentication off, else one more prompt', async () => {
    const fresh = emulator.addUser({ username: 'kim@contoso.onmicrosoft.com', consentedResources: [] })
    const tokenCache = new MemoryTokenCache()
    const prompt = vi.fn()
    const manual = credential({ disableAutomaticAuthentication: true, tokenCache, userPromptCallback: prompt })
    const approved = approveNext(fresh.username)
    const record = await manual.authenticate(ARM)
    await approved
    const error = await failureOf(manual.getToken(STORAGE))
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect((error as { aadstsCode?: string }).aadstsCode).toBe('AADSTS65001')
    expect(prompt).toHaveBeenCalledTimes(1)
    // The same account with automatic authentication: one more prompt (which records the consent), then the token.
    const automatic = credential({ tokenCache, authenticationRecord: record, userPromptCallback: prompt })
    const again = approveNext(fresh.username)
    const token = await automatic.getToken(STORAGE)
    await again
    expect(audienceOf(token.token)).toBe('https://storage.azure.com')
    expect(prompt).toHaveBeenCalledTimes(2)
  })

  it('a poll lost to a 503 or a dropped connection is sent again without a new code', async () => {
    const made = credential()
    const devicecodes = devicecodeRequests()
    emulator.injectFault({ kind: 'status', status: 503 }, { count: 2, pathIncludes: '/oauth2/v2.0/token' })
    const approved = approveNext(user.username, 1)
    const token = await made.getToken(ARM)
    await approved
    expect(token.token).toBeTypeOf('string')
    expect(devicecodeRequests()).toBe(devicecodes + 1)
  })

  it('a prompt callback that throws ends the sign-in with AZCRED_AUTHENTICATION_CANCELLED', async () => {
    const made = credential({
      userPromptCallback: () => {
        throw new Error('no screen')
      },
    })
    const error = await failureOf(made.getToken(ARM))
    expect(error.code).toBe('AZCRED_AUTHENTICATION_CANCELLED')
    expect(error.message).toMatch(/userPromptCallback threw/)
  })

  it('tokenCachePersistenceOptions with tokenCache is AZCRED_CONFIG_INVALID; a malformed one too', () => {
    expect(() => credential({ tokenCache: new MemoryTokenCache(), tokenCachePersistenceOptions: { enabled: true } })).toThrow(/not both/)
    expect(() => credential({ tokenCachePersistenceOptions: { name: 'x' } as never })).toThrow(/enabled: boolean/)
  })

  it('the official defaults: tenant organizations and the Azure CLI client id', async () => {
    emulator.registerApp({ clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46', publicClient: true } as never)
    const made = new DeviceCodeCredential({ authorityHost: emulator.authorityHost, fetch: recordingFetch, userPromptCallback: () => {} })
    const pending = (async () => {
      const code = await emulator.deviceCodes.waitForPending({ clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' })
      emulator.deviceCodes.approve(code.userCode, user.username)
    })()
    const token = await made.getToken(ARM)
    await pending
    expect(token.token).toBeTypeOf('string')
    const devicecode = emulator.requestsTo('/oauth2/v2.0/devicecode').at(-1)
    expect(devicecode?.path).toMatch(/^\/organizations\//)
    expect(devicecode?.form.client_id).toBe('04b07795-8ddb-461a-bbee-02f9e1bf7b46')
  })
})

describe('tokenCachePersistenceOptions (@azcred/token-cache-file, loaded lazily)', () => {
  it('a restarted credential with the record and the same encrypted file gets its token with 0 requests; no token in plaintext on disk', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'azcred-device-code-'))
    try {
      const tokenCachePersistenceOptions = { enabled: true, name: 'device-code-test', directory, keySource: 'file' }
      const first = credential({ tokenCachePersistenceOptions })
      const approved = approveNext()
      const record = await first.authenticate(ARM)
      await approved
      await first.getToken(ARM)
      // The engine writes a fetched token to the cache after returning it (not awaited): let the file write land.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const prompt = vi.fn()
      const restarted = credential({
        tokenCachePersistenceOptions,
        authenticationRecord: record,
        disableAutomaticAuthentication: true,
        userPromptCallback: prompt,
      })
      const before = emulator.requests.length
      const token = await restarted.getToken(ARM)
      expect(emulator.requests.length).toBe(before)
      expect(audienceOf(token.token)).toBe('https://management.azure.com')
      // A new audience: the refresh token from the file, one request, no prompt.
      await restarted.getToken(VAULT)
      expect(emulator.requests.length).toBe(before + 1)
      expect(prompt).not.toHaveBeenCalled()
      const files = await readdir(directory, { recursive: true })
      const bytes = (await Promise.all(files.map((file) => readFile(join(directory, file)).catch(() => Buffer.alloc(0)))))
        .map((buffer) => buffer.toString('latin1'))
        .join('\n')
      expect(bytes.length).toBeGreaterThan(100)
      for (const secret of issued) expect(bytes).not.toContain(secret)
      expect(bytes).not.toContain(token.token.slice(0, 40))
    } finally {
      await rm(directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    }
  })
})

describe('persistence package missing, hostile device code answers', () => {
  it('tokenCachePersistenceOptions without @azcred/token-cache-file installed: AZCRED_CONFIG_INVALID saying what to install', async () => {
    const error = await failureOf(loadPersistentCache({ enabled: true }, '@azcred/token-cache-file-not-installed'))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/install it \(npm install @azcred\/token-cache-file\)/)
  })

  for (const [field, body] of [
    ['device_code', { user_code: 'ABC', verification_uri: 'https://microsoft.com/devicelogin', expires_in: 900 }],
    ['verification_uri', { device_code: 'x', user_code: 'ABC', verification_uri: 'javascript:alert(1)', expires_in: 900 }],
    ['expires_in', { device_code: 'x', user_code: 'ABC', verification_uri: 'https://microsoft.com/devicelogin', expires_in: 1e9 }],
    ['user_code', { device_code: 'x', user_code: 'A\u001b[2JB', verification_uri: 'https://microsoft.com/devicelogin', expires_in: 900 }],
  ] as const) {
    it(`a device code answer with a missing or bad ${field} is AZCRED_RESPONSE_INVALID naming it, and nothing is shown`, async () => {
      const prompt = vi.fn()
      const fetch = async (): Promise<Response> => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
      const error = await failureOf(credential({ fetch, userPromptCallback: prompt }).getToken(ARM))
      expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
      expect(error.message).toContain(field)
      expect(prompt).not.toHaveBeenCalled()
    })
  }
})

describe('default prompt', () => {
  it('Node: Entra message on stderr, and a QR code of the verification URI only when stderr is a terminal', async () => {
    const info: DeviceCodeInfo = {
      userCode: 'ABCD2345',
      verificationUri: 'https://microsoft.com/devicelogin',
      message: 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD2345 to authenticate.',
      expiresOn: new Date(),
    }
    const piped: string[] = []
    await nodeDefaultPrompt(info, { isTTY: false, write: (text) => piped.push(text) })
    expect(piped).toEqual([`${info.message}\n`])
    const terminal: string[] = []
    await nodeDefaultPrompt(info, { isTTY: true, write: (text) => terminal.push(text) })
    expect(terminal[0]).toBe(`${info.message}\n`)
    const qr = (terminal[1] ?? '').trimEnd().split('\n')
    // Version 2 (25 modules) + quiet zone: 29 columns, 15 rows of half blocks.
    expect(qr.length).toBeGreaterThanOrEqual(13)
    expect(new Set(qr.map((line) => line.length)).size).toBe(1)
    expect(qr.join('')).toMatch(/^[ ▀▄█]+$/)
  })

  it('Node credential without a callback writes the message to stderr, not stdout', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const stdout = vi.spyOn(process.stdout, 'write')
    const made = new DeviceCodeCredential({ tenantId: emulator.tenantId, clientId, authorityHost: emulator.authorityHost, fetch: recordingFetch })
    const approved = approveNext()
    await made.getToken(ARM)
    await approved
    const written = stderr.mock.calls.map(([text]) => String(text)).join('')
    const code = emulator.deviceCodes.latest()?.userCode as string
    expect(written).toContain(code)
    expect(stdout.mock.calls.map(([text]) => String(text)).join('')).not.toContain(code)
  })

  it('runtime-agnostic credential without a callback uses console.error', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {})
    const made = new AgnosticDeviceCodeCredential({ tenantId: emulator.tenantId, clientId, authorityHost: emulator.authorityHost, fetch: recordingFetch })
    const approved = approveNext()
    await made.getToken(ARM)
    await approved
    expect(errorLog).toHaveBeenCalledWith(expect.stringContaining(emulator.deviceCodes.latest()?.userCode as string))
  })
})

describe('secrets', () => {
  it('no device code, refresh, id or access token in any error, event or util.inspect of a credential', async () => {
    const made = credential()
    const approved = approveNext()
    await made.getToken(ARM)
    await approved
    expose(made)
    exposed.push(inspect(made, { showHidden: true, depth: 10 }), JSON.stringify(made) ?? '')
    expect(issued.size).toBeGreaterThan(10)
    const everything = exposed.join('\n')
    for (const secret of issued) expect(everything).not.toContain(secret)
  })
})
