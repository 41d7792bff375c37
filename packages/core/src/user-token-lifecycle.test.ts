import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { type AuthenticationRecord, deserializeAuthenticationRecord, serializeAuthenticationRecord } from './authentication-record'
import { AzcredError, InteractionRequiredError, TokenRequestError } from './azcred-error'
import { requestTokenGrant } from './entra-token'
import { MemoryTokenCache, parseTokenCacheEntry, serializeTokenCacheEntry, type TokenCache, tokenCacheKey } from './token-cache'
import type { TokenEvent } from './token-events'
import type { TokenRequest } from './token-lifecycle'
import type { TokenResponse } from './token-response'
import { type InteractiveSignIn, UserTokenLifecycle, type UserTokenLifecycleConfig } from './user-token-lifecycle'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
const VAULT = 'https://vault.azure.net/.default'
const STORAGE = 'https://storage.azure.com/.default'
const GRAPH = 'https://graph.microsoft.com/.default'
const SIGN_IN_GRANT = 'urn:test:sign-in'
const USER = { uid: 'user-oid-1', utid: TENANT, username: 'ada@contoso.example' }
const OTHER_USER = { uid: 'user-oid-2', utid: TENANT, username: 'grace@contoso.example' }
type Account = typeof USER

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * A loopback token endpoint that speaks the refresh_token grant with strict rotation (a used refresh
 * token is dead) and a test-only sign-in grant the fake interactive functions call. Every token it
 * issues carries "PLANTED" so a leak is easy to find.
 */
class TokenEndpoint {
  readonly requests: Record<string, string>[] = []
  /** Live refresh tokens and whose they are. */
  readonly live = new Map<string, Account>()
  readonly issuedRefreshTokens: string[] = []
  /** Every refresh token issued and whose it is (used ones included). */
  readonly owners = new Map<string, Account>()
  /** Every access token issued and whose it is. */
  readonly accessTokens = new Map<string, Account>()
  readonly issuedIdTokens: string[] = []
  /** When set, every refresh_token grant is refused with this body (HTTP 400). */
  refusal: Record<string, unknown> | undefined
  /** When set, `refusal` applies only to refresh_token grants whose scope starts with it. */
  refuseScope: string | undefined
  /** When set, `refusal` applies only to this refresh token. */
  refuseToken: string | undefined
  /** When set, refresh_token grants answer as this account (a hostile or broken endpoint). */
  refreshAs: Account | undefined
  /** When set, the next refresh_token grant waits for it before it is answered (a slow redemption). */
  hold: Promise<void> | undefined
  #counter = 0
  #server: Server | undefined
  authorityHost = ''

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk) => {
        body += chunk
      })
      request.on('end', async () => {
        const form = Object.fromEntries(new URLSearchParams(body))
        form.path = request.url ?? ''
        this.requests.push(form)
        const hold = form.grant_type === 'refresh_token' ? this.hold : undefined
        if (hold) {
          this.hold = undefined
          await hold
        }
        const [status, answer] = this.#answer(form)
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(JSON.stringify(answer))
      })
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    this.authorityHost = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.#server?.close(resolve))
  }

  reset(): void {
    this.requests.length = 0
    this.live.clear()
    this.owners.clear()
    this.accessTokens.clear()
    this.refusal = undefined
    this.refreshAs = undefined
    this.refuseScope = undefined
    this.refuseToken = undefined
    this.hold = undefined
    this.issuedRefreshTokens.length = 0
    this.issuedIdTokens.length = 0
  }

  grants(type: string): Record<string, string>[] {
    return this.requests.filter((form) => form.grant_type === type)
  }

  /** Makes a refresh token as a sign-in in an earlier run would have left it. */
  plantRefreshToken(account: Account = USER): string {
    const refreshToken = `rt-PLANTED-${++this.#counter}-${'x'.repeat(20)}`
    this.live.set(refreshToken, account)
    this.owners.set(refreshToken, account)
    this.issuedRefreshTokens.push(refreshToken)
    return refreshToken
  }

  #answer(form: Record<string, string>): [number, Record<string, unknown>] {
    let account: Account | undefined
    if (form.grant_type === SIGN_IN_GRANT) account = [USER, OTHER_USER].find((user) => user.username === form.username)
    else if (form.grant_type === 'refresh_token') {
      const refused =
        (this.refuseScope === undefined || form.scope?.startsWith(this.refuseScope)) && (this.refuseToken ?? form.refresh_token) === form.refresh_token
      if (this.refusal && refused) {
        return [400, { ...this.refusal, error_description: `refused ${form.refresh_token}` }]
      }
      account = this.live.get(form.refresh_token ?? '')
      this.live.delete(form.refresh_token ?? '')
      if (account === undefined) return [400, { error: 'invalid_grant', error_codes: [70008], error_description: `expired ${form.refresh_token}` }]
      account = this.refreshAs ?? account
    }
    if (account === undefined) return [400, { error: 'invalid_request' }]
    const idToken = `${base64url({ alg: 'none' })}.${base64url({ oid: account.uid, tid: account.utid, preferred_username: account.username, nonce: `IDTOKEN-PLANTED-${this.#counter}` })}.c2ln`
    this.issuedIdTokens.push(idToken)
    const accessToken = `at-PLANTED-${++this.#counter}`
    this.accessTokens.set(accessToken, account)
    return [
      200,
      {
        token_type: 'Bearer',
        access_token: accessToken,
        expires_in: 3600,
        scope: form.scope,
        refresh_token: this.plantRefreshToken(account),
        id_token: idToken,
        client_info: base64url({ uid: account.uid, utid: account.utid }),
      },
    ]
  }
}

const endpoint = new TokenEndpoint()
beforeAll(() => endpoint.start())
afterAll(() => endpoint.close())
beforeEach(() => endpoint.reset())
afterEach(() => {
  vi.useRealTimers()
})

interface Fixture {
  lifecycle: UserTokenLifecycle
  events: TokenEvent[]
  /** The requests each interactive call received. */
  signIns: TokenRequest[]
}

/** A fake sign-in: as the user named, through the endpoint's test grant (a real HTTP exchange). */
function signInAs(account: Account, signIns: TokenRequest[], before?: (request: TokenRequest) => Promise<void>): InteractiveSignIn {
  return async (request) => {
    signIns.push(request)
    await before?.(request)
    return requestTokenGrant({
      authorityHost: endpoint.authorityHost,
      clientId: CLIENT,
      request,
      grant: { grant_type: SIGN_IN_GRANT, username: account.username },
    })
  }
}

function userLifecycle(overrides: Partial<UserTokenLifecycleConfig> = {}, before?: (request: TokenRequest) => Promise<void>): Fixture {
  const events: TokenEvent[] = []
  const signIns: TokenRequest[] = []
  const lifecycle = new UserTokenLifecycle({
    credentialName: 'TestUserCredential',
    tenantId: TENANT,
    clientId: CLIENT,
    authorityHost: endpoint.authorityHost,
    interactive: signInAs(USER, signIns, before),
    onEvent: (event) => events.push(event),
    random: () => 0,
    retry: { maxAttempts: 3, baseDelayMs: 1 },
    ...overrides,
  })
  return { lifecycle, events, signIns }
}

function recordFor(account: Account = USER): AuthenticationRecord {
  return {
    authority: new URL(endpoint.authorityHost).host,
    homeAccountId: `${account.uid}.${account.utid}`,
    clientId: CLIENT,
    tenantId: TENANT,
    username: account.username,
  }
}

async function failureOf(promise: Promise<unknown>): Promise<AzcredError & Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    expect(AzcredError.isInstance(error)).toBe(true)
    return error as AzcredError & Record<string, unknown>
  }
  throw new Error('expected a rejection')
}

/** A cache that counts its calls, over the in-memory one. */
function countingCache(inner: TokenCache = new MemoryTokenCache()) {
  const calls = { read: 0, write: 0, remove: 0 }
  const keys = new Set<string>()
  const cache: TokenCache = {
    read: (key) => {
      calls.read += 1
      return inner.read(key)
    },
    write: (key, value, expires) => {
      calls.write += 1
      keys.add(key)
      return inner.write(key, value, expires)
    },
    remove: (key) => {
      calls.remove += 1
      keys.delete(key)
      return inner.remove(key)
    },
    scrub: () => inner.scrub(),
  }
  return { cache, calls, keys, inner }
}

describe('silent path: refresh tokens', () => {
  it('rotates: each redemption uses the newest refresh token, and a sign-in account is known', async () => {
    const { lifecycle, signIns } = userLifecycle()
    await lifecycle.getToken(VAULT)
    expect(signIns).toHaveLength(1)
    expect(lifecycle.authenticationRecord).toEqual(recordFor())
    const [signIn] = endpoint.grants(SIGN_IN_GRANT)
    expect(signIn?.scope).toBe(`${VAULT} openid profile offline_access`)

    await lifecycle.getToken(STORAGE)
    await lifecycle.getToken(GRAPH)
    const redemptions = endpoint.grants('refresh_token')
    expect(redemptions.map((form) => form.refresh_token)).toEqual(endpoint.issuedRefreshTokens.slice(0, 2))
    expect(redemptions.map((form) => form.scope)).toEqual([`${STORAGE} openid profile offline_access`, `${GRAPH} openid profile offline_access`])
    expect(redemptions.every((form) => form.client_id === CLIENT && form.client_info === '1' && form.path === `/${TENANT}/oauth2/v2.0/token`)).toBe(true)
    expect(signIns).toHaveLength(1)
  })

  it('redeems a persisted refresh token for new audiences with no sign-in (authenticationRecord after a restart)', async () => {
    const { cache, keys } = countingCache()
    const first = userLifecycle({ tokenCache: cache })
    await first.lifecycle.getToken(VAULT)
    expect(keys.size).toBeGreaterThan(0)

    // A new process: a new lifecycle with the stored record and the same cache.
    const second = userLifecycle({ tokenCache: cache, authenticationRecord: first.lifecycle.authenticationRecord })
    const storage = await second.lifecycle.getToken(STORAGE)
    const graph = await second.lifecycle.getToken(GRAPH)
    expect(storage.token).not.toBe(graph.token)
    expect(second.signIns).toHaveLength(0)
    expect(endpoint.grants('refresh_token').map((form) => form.scope?.split(' ')[0])).toEqual([STORAGE, GRAPH])
  })

  it('a refresh token serves another tenant of the account (additionallyAllowedTenants) with no sign-in', async () => {
    const other = '11111111-2222-3333-4444-555555555555'
    const { lifecycle, signIns } = userLifecycle({ additionallyAllowedTenants: [other] })
    await lifecycle.getToken(VAULT)
    await lifecycle.getToken(VAULT, { tenantId: other })
    expect(signIns).toHaveLength(1)
    expect(endpoint.grants('refresh_token')[0]?.path).toBe(`/${other}/oauth2/v2.0/token`)
    await expect(failureOf(lifecycle.getToken(VAULT, { tenantId: 'contoso.example' }))).resolves.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
  })

  it('a confidential client sends its client authentication with the refresh token', async () => {
    const { lifecycle } = userLifecycle({ clientAuthentication: { formFields: () => ({ client_secret: 'secret-PLANTED' }) } })
    await lifecycle.getToken(VAULT)
    await lifecycle.getToken(STORAGE)
    expect(endpoint.grants('refresh_token')[0]?.client_secret).toBe('secret-PLANTED')
  })

  it('revocation: the refresh token refused ends in AZCRED_INTERACTION_REQUIRED with Entra claims, and it is forgotten', async () => {
    const { cache, inner } = countingCache()
    const { lifecycle, signIns } = userLifecycle({ tokenCache: cache, disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1795975200"}}}'
    endpoint.refusal = { error: 'invalid_grant', error_codes: [50173], claims }

    const error = await failureOf(lifecycle.getToken(STORAGE))
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(error.claims).toBe(claims)
    expect(error.aadstsCode).toBe('AADSTS50173')
    expect(signIns).toHaveLength(1)
    // Forgotten in memory and in the cache: the next call sends nothing.
    const redemptions = endpoint.grants('refresh_token').length
    const again = await failureOf(lifecycle.getToken(GRAPH))
    expect(again.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(endpoint.grants('refresh_token')).toHaveLength(redemptions)
    const restarted = userLifecycle({ tokenCache: inner, authenticationRecord: lifecycle.authenticationRecord, disableAutomaticAuthentication: true })
    expect((await failureOf(restarted.lifecycle.getToken(GRAPH))).code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(endpoint.grants('refresh_token')).toHaveLength(redemptions)
  })

  it('a refresh token refused for MFA on one resource (claims) still serves the others', async () => {
    const { lifecycle, signIns } = userLifecycle({ disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}'
    endpoint.refusal = { error: 'invalid_grant', error_codes: [50076], claims }
    const error = await failureOf(lifecycle.getToken(STORAGE))
    expect(error).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', claims, aadstsCode: 'AADSTS50076' })
    endpoint.refusal = undefined
    await lifecycle.getToken(GRAPH)
    expect(endpoint.grants('refresh_token').map((form) => form.refresh_token)).toEqual([endpoint.issuedRefreshTokens[0], endpoint.issuedRefreshTokens[0]])
    expect(signIns).toHaveLength(1)
  })

  it('a refused refresh token leads a caller to the sign-in, which receives Entra claims challenge', async () => {
    const { lifecycle, signIns } = userLifecycle()
    await lifecycle.getToken(VAULT)
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    endpoint.refusal = { error: 'interaction_required', error_codes: [50079], claims }
    await lifecycle.getToken(STORAGE)
    expect(signIns).toHaveLength(2)
    expect(signIns[1]?.claims).toBe(claims)
    expect(signIns[1]?.scopes).toEqual([STORAGE, 'openid', 'profile', 'offline_access'])
  })

  it('a refresh token rotated by another credential sharing the cache is picked up after a refusal', async () => {
    const cache = new MemoryTokenCache()
    const first = userLifecycle({ tokenCache: cache })
    await first.lifecycle.getToken(VAULT)
    const second = userLifecycle({ tokenCache: cache, authenticationRecord: first.lifecycle.authenticationRecord })
    await second.lifecycle.getToken(STORAGE) // rotates: the first one's refresh token in memory is now dead
    await first.lifecycle.getToken(GRAPH)
    expect(first.signIns.length + second.signIns.length).toBe(1)
    const used = endpoint.grants('refresh_token').map((form) => form.refresh_token)
    expect(used).toEqual([endpoint.issuedRefreshTokens[0], endpoint.issuedRefreshTokens[0], endpoint.issuedRefreshTokens[1]])
  })
})

describe('interactive path', () => {
  it('disableAutomaticAuthentication: getToken never signs in; authenticate does, and its token serves the next getToken', async () => {
    const { lifecycle, signIns } = userLifecycle({ disableAutomaticAuthentication: true })
    const error = await failureOf(lifecycle.getToken(VAULT))
    expect(error.code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(error.message).toContain('authenticate()')
    expect(error).toBeInstanceOf(InteractionRequiredError)
    expect(error.errorCodes).toEqual([])
    expect(signIns).toHaveLength(0)
    expect(endpoint.requests).toHaveLength(0)

    const record = await lifecycle.authenticate(VAULT)
    expect(record).toEqual(recordFor())
    expect(lifecycle.authenticationRecord).toBe(record)
    await lifecycle.getToken(VAULT)
    expect(endpoint.requests).toHaveLength(1)
    expect(signIns).toHaveLength(1)
  })

  it('authenticate signs in even when a token is cached, and a new user replaces the account', async () => {
    const signIns: TokenRequest[] = []
    let account = USER
    const { lifecycle } = userLifecycle({ interactive: (request) => signInAs(account, signIns)(request) })
    const first = await lifecycle.getToken(VAULT)
    account = OTHER_USER
    const record = await lifecycle.authenticate(VAULT)
    expect(signIns).toHaveLength(2)
    expect(record).toEqual(recordFor(OTHER_USER))
    // The previous user's token is not served to the new one.
    expect((await lifecycle.getToken(VAULT)).token).not.toBe(first.token)
  })

  it('two concurrent callers with different scopes share one sign-in; the second redeems its refresh token', async () => {
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const { lifecycle, signIns } = userLifecycle({}, () => gate)
    const vault = lifecycle.getToken(VAULT)
    const storage = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(signIns).toHaveLength(1))
    release()
    const [first, second] = await Promise.all([vault, storage])
    expect(first.token).not.toBe(second.token)
    expect(signIns).toHaveLength(1)
    expect(endpoint.grants('refresh_token').map((form) => form.scope?.split(' ')[0])).toEqual([STORAGE])
  })

  it('a sign-in is cancelled when its only caller aborts: the interactive function sees its signal fire', async () => {
    const seen: { aborted: boolean }[] = []
    const { lifecycle, signIns } = userLifecycle(
      {},
      (request) =>
        new Promise((_, reject) => {
          const signal = request.abortSignal as AbortSignal
          seen.push(signal)
          signal.addEventListener('abort', () => reject(new DOMException('stopped polling', 'AbortError')))
        }),
    )
    const controller = new AbortController()
    const call = lifecycle.getToken(VAULT, { abortSignal: controller.signal })
    await vi.waitFor(() => expect(signIns).toHaveLength(1))
    expect(seen[0]?.aborted).toBe(false)
    controller.abort()
    expect((await failureOf(call)).code).toBe('AZCRED_ABORTED')
    expect(seen[0]?.aborted).toBe(true)
    expect(endpoint.requests).toHaveLength(0)
    // The next caller starts a new sign-in instead of joining the aborted one.
    const next = new AbortController()
    const again = lifecycle.getToken(VAULT, { abortSignal: next.signal })
    await vi.waitFor(() => expect(signIns).toHaveLength(2))
    next.abort()
    await failureOf(again)
  })

  it('one waiter aborting leaves the sign-in running for the other', async () => {
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const { lifecycle, signIns } = userLifecycle({}, () => gate)
    const controller = new AbortController()
    const leaving = lifecycle.getToken(VAULT, { abortSignal: controller.signal })
    const staying = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(signIns).toHaveLength(1))
    controller.abort()
    expect((await failureOf(leaving)).code).toBe('AZCRED_ABORTED')
    expect(signIns[0]?.abortSignal?.aborted).toBe(false)
    release()
    await expect(staying).resolves.toMatchObject({ token: expect.stringMatching(/^at-/) })
    expect(signIns).toHaveLength(1)
  })

  it('a cancelled sign-in is AZCRED_AUTHENTICATION_CANCELLED and a failed one is never retried', async () => {
    const cancelled = userLifecycle({ interactive: async () => Promise.reject(new DOMException('the user closed the window', 'AbortError')) })
    expect((await failureOf(cancelled.lifecycle.getToken(VAULT))).code).toBe('AZCRED_AUTHENTICATION_CANCELLED')
    expect((await failureOf(cancelled.lifecycle.authenticate(VAULT))).code).toBe('AZCRED_AUTHENTICATION_CANCELLED')
    const declined = userLifecycle({
      interactive: async () => Promise.reject(new TokenRequestError('the user declined', { status: 400, error: 'authorization_declined' })),
    })
    expect((await failureOf(declined.lifecycle.getToken(VAULT))).code).toBe('AZCRED_AUTHENTICATION_CANCELLED')

    let calls = 0
    const failing = userLifecycle({
      interactive: async () => {
        calls += 1
        throw new AzcredError('AZCRED_NETWORK_ERROR', 'the device code endpoint could not be reached')
      },
    })
    expect((await failureOf(failing.lifecycle.getToken(VAULT))).code).toBe('AZCRED_NETWORK_ERROR')
    expect(calls).toBe(1)
  })

  it('a credential without a sign-in gives AZCRED_INTERACTION_REQUIRED and refuses authenticate', async () => {
    const { lifecycle } = userLifecycle({ interactive: undefined })
    expect((await failureOf(lifecycle.getToken(VAULT))).code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect((await failureOf(lifecycle.authenticate(VAULT))).code).toBe('AZCRED_CONFIG_INVALID')
  })
})

describe('background refresh', () => {
  it('runs only the silent path: a refresh needing interaction is a refresh-failed event and the old token is served', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { lifecycle, signIns, events } = userLifecycle()
    const token = await lifecycle.getToken(VAULT)
    endpoint.refusal = { error: 'invalid_grant', error_codes: [50173] }
    vi.setSystemTime(Date.now() + 56 * 60_000) // past the refresh margin, still valid
    expect(await lifecycle.getToken(VAULT)).toBe(token)
    await vi.waitFor(() => expect(events.some((event) => event.type === 'refresh-failed')).toBe(true))
    expect(events.find((event) => event.type === 'refresh-failed')).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    expect(signIns).toHaveLength(1)
    expect(await lifecycle.getToken(VAULT)).toBe(token)
    expect(signIns).toHaveLength(1)
  })

  it('a caller arriving after expiry while a refused background refresh is in flight is signed in, not refused', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { lifecycle, signIns } = userLifecycle()
    const token = await lifecycle.getToken(VAULT)
    endpoint.refusal = { error: 'invalid_grant', error_codes: [50173] }
    let release: () => void = () => {}
    endpoint.hold = new Promise((resolve) => {
      release = resolve
    })
    vi.setSystemTime(Date.now() + 56 * 60_000) // past the refresh margin, still valid: a background refresh starts
    expect(await lifecycle.getToken(VAULT)).toBe(token)
    await vi.waitFor(() => expect(endpoint.grants('refresh_token')).toHaveLength(1))
    vi.setSystemTime(Date.now() + 10 * 60_000) // expired while the refresh is in flight
    const late = lifecycle.getToken(VAULT)
    release()
    const fresh = await late
    expect(fresh.token).not.toBe(token.token)
    expect(signIns).toHaveLength(2)
  })

  it('a background refresh redeems the refresh token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { lifecycle, signIns, events } = userLifecycle()
    const token = await lifecycle.getToken(VAULT)
    vi.setSystemTime(Date.now() + 56 * 60_000)
    await lifecycle.getToken(VAULT)
    await vi.waitFor(() => expect(events.some((event) => event.type === 'refreshed')).toBe(true))
    expect((await lifecycle.getToken(VAULT)).token).not.toBe(token.token)
    expect(endpoint.grants('refresh_token')).toHaveLength(1)
    expect(signIns).toHaveLength(1)
  })
})

describe('accounts and a shared cache', () => {
  it('two lifecycles sharing one cache and the record: the second makes no sign-in and no request for a cached token', async () => {
    const { cache, calls } = countingCache()
    const first = userLifecycle({ tokenCache: cache })
    const token = await first.lifecycle.getToken(VAULT)
    const requests = endpoint.requests.length
    const second = userLifecycle({ tokenCache: cache, authenticationRecord: first.lifecycle.authenticationRecord })
    expect((await second.lifecycle.getToken(VAULT)).token).toBe(token.token)
    expect(second.signIns).toHaveLength(0)
    expect(endpoint.requests).toHaveLength(requests)
    expect(calls.read).toBeGreaterThan(0)
  })

  it('before a sign-in no cache entry is read: an app-only token of the same client is never served to a user', async () => {
    const cache = new MemoryTokenCache()
    const partition = { authority: endpoint.authorityHost, clientId: CLIENT, tenantId: TENANT, scopes: VAULT, cae: false }
    const appOnly = serializeTokenCacheEntry({ accessToken: { token: 'app-only-token', expiresOnTimestamp: Date.now() + 3_600_000 } })
    await cache.write(tokenCacheKey({ kind: 'access_token', account: '', ...partition }), appOnly, Date.now() + 3_600_000)
    const { lifecycle, signIns } = userLifecycle({ tokenCache: cache })
    expect((await lifecycle.getToken(VAULT)).token).not.toBe('app-only-token')
    expect(signIns).toHaveLength(1)
    // The user's own entry is written under the account.
    const own = parseTokenCacheEntry(await cache.read(tokenCacheKey({ kind: 'access_token', account: `${USER.uid}.${USER.utid}`, ...partition })))
    expect(own?.account).toBe(`${USER.uid}.${USER.utid}`)
    expect(own?.refreshToken).toBeUndefined()
  })

  it('a record for another clientId or authority host is AZCRED_CONFIG_INVALID', () => {
    const wrongClient = { ...recordFor(), clientId: '00000000-0000-0000-0000-000000000001' }
    expect(() => userLifecycle({ authenticationRecord: wrongClient })).toThrow(/another clientId/)
    const wrongHost = { ...recordFor(), authority: 'login.microsoftonline.com' }
    expect(() => userLifecycle({ authenticationRecord: wrongHost })).toThrow(/another authority host/)
    expect(() => userLifecycle({ authenticationRecord: { homeAccountId: 'x' } as AuthenticationRecord })).toThrow(/AuthenticationRecord/)
    // The official shape, authority as @azure/identity writes it (host/tenant), is accepted.
    expect(() => userLifecycle({ authenticationRecord: { ...recordFor(), authority: `${new URL(endpoint.authorityHost).host}/${TENANT}` } })).not.toThrow()
  })

  it('a failing cache never fails a token request', async () => {
    const broken: TokenCache = {
      read: () => Promise.reject(new Error('disk on fire rt-PLANTED')),
      write: () => Promise.reject(new Error('disk on fire')),
      remove: () => Promise.reject(new Error('disk on fire')),
      scrub: () => Promise.resolve(),
    }
    const { lifecycle, events } = userLifecycle({ tokenCache: broken })
    await lifecycle.getToken(VAULT)
    await lifecycle.getToken(STORAGE)
    expect(endpoint.grants('refresh_token')).toHaveLength(1)
    const cacheErrors = events.filter((event) => event.type === 'cache-error')
    expect(cacheErrors.map((event) => event.type === 'cache-error' && event.operation)).toEqual(expect.arrayContaining(['read', 'write']))
    expect(JSON.stringify(events)).not.toMatch(/fire|PLANTED/)
  })
})

describe('secrets', () => {
  it('planted refresh and id tokens appear in no error, event or inspect output', async () => {
    const { lifecycle, events } = userLifecycle({ tokenCache: new MemoryTokenCache(), disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    await lifecycle.getToken(STORAGE)
    endpoint.refusal = { error: 'invalid_grant', error_codes: [70008] }
    const error = await failureOf(lifecycle.getToken(GRAPH))
    const outputs = [
      inspect(lifecycle, { depth: 10, showHidden: true }),
      JSON.stringify(lifecycle),
      inspect(error, { depth: 10, showHidden: true }),
      JSON.stringify(error),
      String(error.stack),
      JSON.stringify(events),
      JSON.stringify(lifecycle.authenticationRecord),
    ].join('\n')
    expect(endpoint.issuedRefreshTokens.length).toBeGreaterThan(1)
    for (const secret of [...endpoint.issuedRefreshTokens, ...endpoint.issuedIdTokens]) expect(outputs).not.toContain(secret)
    expect(outputs).not.toMatch(/PLANTED/)
  })
})

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

describe('hostile endpoint, cache and callers', () => {
  it('refresh-token redemptions stay one at a time when a queued caller aborts (no refresh token is sent twice)', async () => {
    const { lifecycle, signIns } = userLifecycle()
    await lifecycle.getToken(VAULT)
    const slow = gate()
    endpoint.hold = slow.promise
    const first = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(endpoint.grants('refresh_token')).toHaveLength(1))
    const leaving = new AbortController()
    const queued = lifecycle.getToken(GRAPH, { abortSignal: leaving.signal })
    leaving.abort()
    expect((await failureOf(queued)).code).toBe('AZCRED_ABORTED')
    const third = lifecycle.getToken('https://management.azure.com/.default')
    await new Promise((resolve) => setTimeout(resolve, 50))
    slow.open()
    await Promise.all([first, third])
    const used = endpoint.grants('refresh_token').map((form) => form.refresh_token)
    expect(new Set(used).size).toBe(used.length)
    expect(signIns).toHaveLength(1)
  })

  it('authenticate with an already aborted signal starts no sign-in', async () => {
    const { lifecycle, signIns } = userLifecycle()
    expect((await failureOf(lifecycle.authenticate(VAULT, { abortSignal: AbortSignal.abort() }))).code).toBe('AZCRED_ABORTED')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(signIns).toHaveLength(0)
    expect(endpoint.requests).toHaveLength(0)
  })

  it('a caller that aborts while the refresh-token entry is read leaves no orphan sign-in running', async () => {
    const inner = new MemoryTokenCache()
    const slowRead = gate()
    let holdReads = false
    const cache: TokenCache = {
      read: async (key) => {
        if (holdReads && key.includes('"refresh_token"')) await slowRead.promise
        return inner.read(key)
      },
      write: (key, value, expires) => inner.write(key, value, expires),
      remove: (key) => inner.remove(key),
      scrub: () => inner.scrub(),
    }
    const { lifecycle, signIns } = userLifecycle({ tokenCache: cache, authenticationRecord: recordFor() })
    holdReads = true
    const controller = new AbortController()
    const call = lifecycle.getToken(VAULT, { abortSignal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 20))
    controller.abort()
    expect((await failureOf(call)).code).toBe('AZCRED_ABORTED')
    slowRead.open()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(signIns.filter((request) => !request.abortSignal?.aborted)).toHaveLength(0)
  })

  it('a redemption answered for another account is refused: its tokens are neither served nor kept', async () => {
    const cache = new MemoryTokenCache()
    const { lifecycle } = userLifecycle({ tokenCache: cache })
    await lifecycle.getToken(VAULT)
    endpoint.refreshAs = OTHER_USER
    const error = await failureOf(lifecycle.getToken(STORAGE))
    expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
    expect(lifecycle.authenticationRecord).toEqual(recordFor())
    // The other account's refresh token is not kept as this account's.
    const key = tokenCacheKey({
      kind: 'refresh_token',
      authority: endpoint.authorityHost,
      clientId: CLIENT,
      account: `${USER.uid}.${USER.utid}`,
      tenantId: '',
      scopes: '',
      cae: false,
    })
    const kept = parseTokenCacheEntry(await cache.read(key))?.refreshToken
    expect(endpoint.live.get(kept ?? '')).not.toBe(OTHER_USER)
    endpoint.refreshAs = undefined
    await failureOf(lifecycle.getToken(GRAPH)).catch(() => undefined)
    const sent = endpoint.grants('refresh_token').map((form) => form.refresh_token)
    expect(sent[1]).toBe(sent[0])
  })

  it('a redemption that ends after another user signed in keeps nothing for the new account', async () => {
    const cache = new MemoryTokenCache()
    const signIns: TokenRequest[] = []
    let account = USER
    const { lifecycle } = userLifecycle({ tokenCache: cache, interactive: (request) => signInAs(account, signIns)(request) })
    await lifecycle.getToken(VAULT)
    const slow = gate()
    endpoint.hold = slow.promise
    const late = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(endpoint.grants('refresh_token')).toHaveLength(1))
    account = OTHER_USER
    await lifecycle.authenticate(VAULT)
    slow.open()
    const lateToken = await late.catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 20))
    // Nothing of the first user is cached under the second one.
    const other = `${OTHER_USER.uid}.${OTHER_USER.utid}`
    const partition = { authority: endpoint.authorityHost, clientId: CLIENT, account: other, tenantId: TENANT, cae: false }
    const storage = parseTokenCacheEntry(await cache.read(tokenCacheKey({ kind: 'access_token', ...partition, scopes: STORAGE })))
    expect(lateToken === undefined || storage?.accessToken?.token !== lateToken.token).toBe(true)
    const refresh = parseTokenCacheEntry(await cache.read(tokenCacheKey({ kind: 'refresh_token', ...partition, tenantId: '', scopes: '' })))
    expect(endpoint.owners.get(refresh?.refreshToken ?? '')).toBe(OTHER_USER)
    // The next redemption presents the second user's refresh token.
    await lifecycle.getToken(GRAPH)
    expect(endpoint.owners.get(endpoint.grants('refresh_token').at(-1)?.refresh_token ?? '')).toBe(OTHER_USER)
    expect(lifecycle.authenticationRecord?.homeAccountId).toBe(other)
  })

  it('an authenticationRecord must keep the stored field rules: no homeAccountId can name an on-behalf-of partition', async () => {
    const cache = new MemoryTokenCache()
    const account = 'obo:c29tZS1oYXNo'
    const planted = serializeTokenCacheEntry({ accessToken: { token: 'obo-token-of-another-user', expiresOnTimestamp: Date.now() + 3_600_000 }, account })
    const partition = { authority: endpoint.authorityHost, clientId: CLIENT, account, tenantId: TENANT, scopes: VAULT, cae: false }
    await cache.write(tokenCacheKey({ kind: 'access_token', ...partition }), planted, Date.now() + 3_600_000)
    const build = () => userLifecycle({ tokenCache: cache, authenticationRecord: { ...recordFor(), homeAccountId: account } })
    expect(build).toThrow(/authenticationRecord\.homeAccountId must be/)
    const line = { ...recordFor(), username: 'ada@contoso.example\nadmin' }
    expect(() => userLifecycle({ authenticationRecord: line })).toThrow(/authenticationRecord\.username/)
  })

  it('every refresh token refused as dead is forgotten: a second call sends none', async () => {
    const cache = new MemoryTokenCache()
    const { lifecycle } = userLifecycle({ tokenCache: cache, disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    // Another credential rotated the refresh token in the shared cache.
    const key = tokenCacheKey({
      kind: 'refresh_token',
      authority: endpoint.authorityHost,
      clientId: CLIENT,
      account: `${USER.uid}.${USER.utid}`,
      tenantId: '',
      scopes: '',
      cae: false,
    })
    await cache.write(
      key,
      serializeTokenCacheEntry({ refreshToken: endpoint.plantRefreshToken(), account: `${USER.uid}.${USER.utid}` }),
      Date.now() + 86_400_000,
    )
    endpoint.refusal = { error: 'invalid_grant', error_codes: [70008] }
    expect((await failureOf(lifecycle.getToken(STORAGE))).code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(endpoint.grants('refresh_token')).toHaveLength(2)
    expect((await failureOf(lifecycle.getToken(GRAPH))).code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(endpoint.grants('refresh_token')).toHaveLength(2)
  })

  it('a caller that joined a sign-in and whose own scopes need consent signs in for them instead of failing', async () => {
    const slow = gate()
    const { lifecycle, signIns } = userLifecycle({}, () => slow.promise)
    const vault = lifecycle.getToken(VAULT)
    const storage = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(signIns).toHaveLength(1))
    endpoint.refusal = { error: 'invalid_grant', error_codes: [65001], suberror: 'consent_required' }
    slow.open()
    await expect(vault).resolves.toMatchObject({ token: expect.stringMatching(/^at-/) })
    await expect(storage).resolves.toMatchObject({ token: expect.stringMatching(/^at-/) })
    expect(signIns).toHaveLength(2)
    expect(signIns[1]?.scopes[0]).toBe(STORAGE)
  })

  it('a sign-in name is kept whole up to 256 characters (no surrogate pair cut), control characters removed', async () => {
    const name = `a${'\u{1F600}'.repeat(200)}`
    const answer = (claims: Record<string, unknown>): TokenResponse => ({
      accessToken: { token: 'at-x', expiresOnTimestamp: Date.now() + 3_600_000 },
      homeAccountId: `${USER.uid}.${USER.utid}`,
      idTokenClaims: claims,
    })
    const first = userLifecycle({ interactive: async () => answer({ preferred_username: name, tid: 'x\ny' }) })
    const record = await first.lifecycle.authenticate(VAULT)
    expect(record.username).toBe(name)
    expect(record.tenantId).toBe(USER.utid)
    expect(deserializeAuthenticationRecord(serializeAuthenticationRecord(record))).toEqual(record)
    const second = userLifecycle({ interactive: async () => answer({ preferred_username: `ada\n\u2028${'\uD800'}@contoso.example` }) })
    expect((await second.lifecycle.authenticate(VAULT)).username).toBe('ada@contoso.example')
  })

  it('the token of a sign-in is never handed to a caller after another user signed in', async () => {
    const inner = new MemoryTokenCache()
    const slowWrite = gate()
    let holdWrites = false
    let heldWrite = false
    const cache: TokenCache = {
      read: (key) => inner.read(key),
      write: async (key, value, expires) => {
        if (holdWrites && key.includes('"refresh_token"')) {
          heldWrite = true
          await slowWrite.promise
        }
        return inner.write(key, value, expires)
      },
      remove: (key) => inner.remove(key),
      scrub: () => inner.scrub(),
    }
    const signIns: TokenRequest[] = []
    let account = USER
    const { lifecycle } = userLifecycle({ tokenCache: cache, interactive: (request) => signInAs(account, signIns)(request) })
    await lifecycle.getToken(VAULT)
    await lifecycle.authenticate(VAULT) // its token waits, unused, for the next VAULT caller
    account = OTHER_USER
    holdWrites = true
    const switching = lifecycle.authenticate(STORAGE)
    await vi.waitFor(() => expect(heldWrite).toBe(true))
    const vault = lifecycle.getToken(VAULT)
    await new Promise((resolve) => setTimeout(resolve, 20))
    slowWrite.open()
    await switching
    expect(endpoint.accessTokens.get((await vault).token)).toBe(OTHER_USER)
  })

  it('a caller aborting just as the sign-in completes loses nothing: the next caller gets its token with no second sign-in', async () => {
    const signIns: TokenRequest[] = []
    const controller = new AbortController()
    const { lifecycle } = userLifecycle({
      interactive: async (request) => {
        const response = await signInAs(USER, signIns)(request)
        controller.abort()
        return response
      },
    })
    expect((await failureOf(lifecycle.getToken(VAULT, { abortSignal: controller.signal }))).code).toBe('AZCRED_ABORTED')
    const token = await lifecycle.getToken(VAULT)
    expect(endpoint.accessTokens.get(token.token)).toBe(USER)
    expect(signIns).toHaveLength(1)
    expect(endpoint.grants('refresh_token')).toHaveLength(0)
  })

  it('a sign-in that answers no token is AZCRED_RESPONSE_INVALID, not a TypeError, and is not retried', async () => {
    let calls = 0
    const { lifecycle } = userLifecycle({
      interactive: async () => {
        calls += 1
        return undefined as unknown as TokenResponse
      },
    })
    expect((await failureOf(lifecycle.getToken(VAULT))).code).toBe('AZCRED_RESPONSE_INVALID')
    expect((await failureOf(lifecycle.authenticate(VAULT))).code).toBe('AZCRED_RESPONSE_INVALID')
    expect(calls).toBe(2)
  })

  it('authenticate refuses a bad option as AZCRED_CONFIG_INVALID: never a bare TypeError or a getter error quoting anything', async () => {
    const { lifecycle, signIns } = userLifecycle()
    const noSignal = await failureOf(lifecycle.authenticate(VAULT, { abortSignal: {} as AbortSignal }))
    expect(noSignal.code).toBe('AZCRED_CONFIG_INVALID')
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('getter saw rt-PLANTED-secret')
        },
      },
    )
    const error = await failureOf(lifecycle.authenticate(VAULT, throwing))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(`${error.message} ${JSON.stringify(error)} ${inspect(error)}`).not.toContain('PLANTED')
    expect(signIns).toHaveLength(0)
  })

  it('a prompt in progress for one caller does not hold up another whose scopes the refresh token serves', async () => {
    const slow = gate()
    let gated = false
    const { lifecycle, signIns } = userLifecycle({}, async () => {
      if (gated) await slow.promise
    })
    await lifecycle.getToken(VAULT)
    gated = true
    endpoint.refusal = { error: 'interaction_required', error_codes: [50076], claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' }
    endpoint.refuseScope = GRAPH
    const graph = lifecycle.getToken(GRAPH)
    await vi.waitFor(() => expect(signIns).toHaveLength(2))
    const storage = lifecycle.getToken(STORAGE)
    const first = await Promise.race([storage, new Promise((resolve) => setTimeout(resolve, 1000, 'blocked'))])
    slow.open()
    expect(first).not.toBe('blocked')
    expect(endpoint.accessTokens.get((await storage).token)).toBe(USER)
    await graph
    expect(signIns).toHaveLength(2)
  })

  it('with disableAutomaticAuthentication, getToken joins a sign-in authenticate() has in flight', async () => {
    const slow = gate()
    const { lifecycle, signIns } = userLifecycle({ disableAutomaticAuthentication: true }, () => slow.promise)
    const signingIn = lifecycle.authenticate(VAULT)
    await vi.waitFor(() => expect(signIns).toHaveLength(1))
    const storage = lifecycle.getToken(STORAGE)
    const vault = lifecycle.getToken(VAULT)
    slow.open()
    await signingIn
    expect(endpoint.accessTokens.get((await storage).token)).toBe(USER)
    expect(endpoint.accessTokens.get((await vault).token)).toBe(USER)
    expect(signIns).toHaveLength(1)
  })

  it("a redemption ending after a sign-in does not replace the sign-in's newer refresh token (an MFA session is kept)", async () => {
    const cache = new MemoryTokenCache()
    const { lifecycle, signIns } = userLifecycle({ tokenCache: cache })
    await lifecycle.getToken(VAULT)
    const slow = gate()
    endpoint.hold = slow.promise
    const storage = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(endpoint.grants('refresh_token')).toHaveLength(1))
    await lifecycle.authenticate(GRAPH, { claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' })
    const fromSignIn = endpoint.issuedRefreshTokens[1]
    slow.open()
    await storage
    await lifecycle.getToken('https://management.azure.com/.default')
    expect(endpoint.grants('refresh_token').at(-1)?.refresh_token).toBe(fromSignIn)
    expect(signIns).toHaveLength(2)
  })

  it("after the held refresh token is refused for MFA, the cache's newer one is redeemed and its rotation is kept", async () => {
    const cache = new MemoryTokenCache()
    const { lifecycle } = userLifecycle({ tokenCache: cache, disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    const held = endpoint.issuedRefreshTokens[0]
    const account = `${USER.uid}.${USER.utid}`
    const key = tokenCacheKey({ kind: 'refresh_token', authority: endpoint.authorityHost, clientId: CLIENT, account, tenantId: '', scopes: '', cae: false })
    const newer = endpoint.plantRefreshToken()
    await cache.write(key, serializeTokenCacheEntry({ refreshToken: newer, account }), Date.now() + 86_400_000)
    // Only the held one is refused (for MFA); the newer one works.
    endpoint.refusal = { error: 'interaction_required', error_codes: [50076], claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' }
    endpoint.refuseToken = held
    await lifecycle.getToken(STORAGE)
    await lifecycle.getToken(GRAPH)
    const sent = endpoint.grants('refresh_token').map((form) => form.refresh_token)
    // The held one (refused), the cache's newer one, then the newer one's rotation: never the refused one again.
    expect(sent).toEqual([held, newer, endpoint.issuedRefreshTokens.at(-2)])
  })

  it('a sign-in that ignores its abort signal holds up the next caller only briefly: a new one starts', async () => {
    const signIns: TokenRequest[] = []
    let first = true
    const { lifecycle } = userLifecycle({
      interactive: async (request) => {
        if (first) {
          first = false
          signIns.push(request)
          return new Promise<TokenResponse>(() => {}) // never ends, whatever its signal says
        }
        return signInAs(USER, signIns)(request)
      },
    })
    const controller = new AbortController()
    const abandoned = lifecycle.getToken(VAULT, { abortSignal: controller.signal })
    await vi.waitFor(() => expect(signIns).toHaveLength(1))
    controller.abort()
    expect((await failureOf(abandoned)).code).toBe('AZCRED_ABORTED')
    const started = Date.now()
    const token = await lifecycle.getToken(VAULT)
    expect(endpoint.accessTokens.get(token.token)).toBe(USER)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(signIns).toHaveLength(2)
  })
})

describe('signOut', () => {
  /** Every value the cache holds for the keys written to it. */
  async function values(cache: TokenCache, keys: Iterable<string>): Promise<string[]> {
    const found = await Promise.all([...keys].map((key) => cache.read(key)))
    return found.filter((value): value is string => value !== undefined)
  }

  it('forgets the account in memory and in the tokenCache: the next getToken needs a sign-in', async () => {
    const { cache, keys, inner } = countingCache()
    const { lifecycle, signIns } = userLifecycle({ tokenCache: cache, disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    await lifecycle.getToken(VAULT)
    await lifecycle.getToken(STORAGE) // redeems the refresh token: a rotated one in the cache
    const written = [...keys]
    expect(written.length).toBeGreaterThanOrEqual(3)
    const record = lifecycle.authenticationRecord

    await lifecycle.signOut()
    expect(lifecycle.authenticationRecord).toBeUndefined()
    expect(await values(inner, written)).toEqual([])
    const requests = endpoint.requests.length
    // Memory (access tokens, refresh token) and the last sign-in's token are gone too.
    await expect(lifecycle.getToken(VAULT)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    await expect(lifecycle.getToken(STORAGE)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    // A restarted process with the stored record finds no refresh token either.
    const restarted = userLifecycle({ tokenCache: cache, authenticationRecord: record, disableAutomaticAuthentication: true })
    await expect(restarted.lifecycle.getToken(GRAPH)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    expect(endpoint.requests.length).toBe(requests)
    expect(signIns).toHaveLength(1)
  })

  it('another account sharing the cache keeps its tokens; allAccounts scrubs the whole cache', async () => {
    const shared = new MemoryTokenCache()
    const ada = userLifecycle({ tokenCache: shared })
    const grace = userLifecycle({ tokenCache: shared, interactive: signInAs(OTHER_USER, []) })
    await ada.lifecycle.getToken(VAULT)
    await grace.lifecycle.getToken(VAULT)
    await ada.lifecycle.signOut()
    const graceRecord = grace.lifecycle.authenticationRecord
    const again = userLifecycle({ tokenCache: shared, authenticationRecord: graceRecord, disableAutomaticAuthentication: true })
    expect(endpoint.accessTokens.get((await again.lifecycle.getToken(STORAGE)).token)).toBe(OTHER_USER)

    await grace.lifecycle.signOut({ allAccounts: true })
    expect(shared.size).toBe(0)
    await expect(grace.lifecycle.signOut({ allAccounts: 'yes' as never })).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
  })

  it('a cache whose scrub takes an account is asked to scrub that account (tokens written elsewhere included)', async () => {
    const { cache: counting, inner } = countingCache()
    const scrubbed: unknown[] = []
    const cache: TokenCache = {
      ...counting,
      scrub: ((options?: { account?: string }) => {
        scrubbed.push(options)
        return Promise.resolve()
      }) as TokenCache['scrub'],
    }
    const { lifecycle } = userLifecycle({ tokenCache: cache })
    await lifecycle.getToken(VAULT)
    const { homeAccountId } = lifecycle.authenticationRecord as AuthenticationRecord
    await lifecycle.signOut()
    expect(scrubbed).toEqual([{ account: homeAccountId }])
    expect((inner as MemoryTokenCache).size).toBe(0)
  })

  it('a redemption in flight during signOut keeps nothing: its caller gets AZCRED_INTERACTION_REQUIRED', async () => {
    const { cache, keys, inner } = countingCache()
    const { lifecycle } = userLifecycle({ tokenCache: cache, disableAutomaticAuthentication: true })
    await lifecycle.authenticate(VAULT)
    await lifecycle.getToken(VAULT)
    let release: () => void = () => {}
    endpoint.hold = new Promise((resolve) => {
      release = resolve
    })
    const pending = lifecycle.getToken(STORAGE)
    await vi.waitFor(() => expect(endpoint.grants('refresh_token')).toHaveLength(1))
    await lifecycle.signOut()
    release()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', message: expect.stringContaining('signOut()') })
    // The rotated refresh token it got was neither kept in memory nor written to the cache.
    expect(await values(inner, keys)).toEqual([])
    const requests = endpoint.requests.length
    await expect(lifecycle.getToken(STORAGE)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    expect(endpoint.requests.length).toBe(requests)
    expect(lifecycle.authenticationRecord).toBeUndefined()
  })

  it('a sign-in in flight is aborted and keeps nothing; a new sign-in afterwards works', async () => {
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => {
      started = resolve
    })
    const { lifecycle, signIns } = userLifecycle({}, async (request) => {
      started()
      await new Promise((resolve) => request.abortSignal?.addEventListener('abort', () => resolve(undefined)))
    })
    const pending = lifecycle.getToken(VAULT)
    await running
    await lifecycle.signOut()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    expect(signIns[0]?.abortSignal?.aborted).toBe(true)
    expect(lifecycle.authenticationRecord).toBeUndefined()
  })
})
