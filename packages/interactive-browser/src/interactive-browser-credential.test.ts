// InteractiveBrowserCredential against the Entra emulator, with `openBrowser` playing the browser over
// plain HTTP (the emulator's real sign-in page, then the redirect to our loopback listener). The real
// Chromium run is browser.e2e.test.ts.
import { createServer } from 'node:http'
import { inspect } from 'node:util'
import { MemoryTokenCache, type TokenEvent } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isListening } from './__fixtures__/is-listening'
import { InteractiveBrowserCredential, type InteractiveBrowserCredentialOptions } from './index'
import { pkceChallenge } from './pkce'

let emulator: EntraEmulator
let userCount = 0
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator?.close()
})

const STORAGE = 'https://storage.azure.com/.default'
const VAULT = 'https://vault.azure.net/.default'

/** Every secret seen on the wire (codes, verifiers, tokens) and everything a user or log could see. */
const secrets = new Set<string>()
const exposed: string[] = []
function expose(value: unknown): void {
  if (value instanceof Error) exposed.push(value.message, String(value.stack))
  exposed.push(JSON.stringify(value) ?? '', inspect(value, { depth: 10, showHidden: true }))
}

/** The emulator's fetch, noting the secrets of every token request and answer. */
function recordingFetch(mutate?: (form: URLSearchParams) => void): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    let body = init?.body
    if (typeof body === 'string' || body instanceof URLSearchParams) {
      const form = new URLSearchParams(body.toString())
      for (const field of ['code', 'code_verifier', 'refresh_token', 'client_secret']) {
        const value = form.get(field)
        if (value) secrets.add(value)
      }
      mutate?.(form)
      body = form.toString()
    }
    const response = await emulator.fetch(String(input), { ...init, body })
    const answer = (await response
      .clone()
      .json()
      .catch(() => ({}))) as Record<string, unknown>
    for (const field of ['access_token', 'refresh_token', 'id_token']) if (typeof answer[field] === 'string') secrets.add(answer[field])
    return response
  }) as typeof fetch
}

interface Browser {
  /** Every authorize URL opened. */
  opened: URL[]
  openBrowser: (url: string) => Promise<void>
}

/** A browser on the emulator's page: signs `username` in (or cancels), then follows the redirect to the listener. */
function httpBrowser(username: string, action: 'sign-in' | 'deny' | 'nothing' = 'sign-in'): Browser {
  const opened: URL[] = []
  return {
    opened,
    openBrowser: async (url) => {
      opened.push(new URL(url))
      if (action === 'nothing') return
      const result = await emulator.signInAtAuthorize(url, { username, consent: action === 'deny' ? 'deny' : 'accept' })
      const location = new URL(result.location ?? '')
      const code = location.searchParams.get('code')
      if (code) secrets.add(code)
      // Not awaited by the credential: the browser follows the redirect on its own.
      void fetch(location).then((response) => response.text())
    },
  }
}

function newUser(options: { consentedResources?: string[] } = {}) {
  userCount += 1
  return emulator.addUser({ username: `browser${userCount}@contoso.onmicrosoft.com`, ...options })
}

function credential(browser: Browser, options: InteractiveBrowserCredentialOptions = {}, app = emulator.registerApp({ publicClient: true })) {
  const events: TokenEvent[] = []
  const instance = new InteractiveBrowserCredential({
    tenantId: app.tenantId,
    clientId: app.clientId,
    authorityHost: emulator.authorityHost,
    fetch: recordingFetch(),
    openBrowser: browser.openBrowser,
    onEvent: (event) => {
      events.push(event)
      expose(event)
    },
    ...options,
  })
  expose(instance)
  return { instance, events, app }
}

const portOf = (authorizeUrl: URL): number => Number(new URL(authorizeUrl.searchParams.get('redirect_uri') ?? '').port)
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) => {
      expose(error)
      return error as Error & { code: string; aadstsCode?: string }
    },
  )

describe('InteractiveBrowserCredential (emulator, HTTP browser)', () => {
  it('signs in with PKCE S256 and a checked state, redeems the code with the verifier, closes the listener', async () => {
    const user = newUser()
    const browser = httpBrowser(user.username)
    const { instance } = credential(browser, { loginHint: user.username })
    const token = await instance.getToken(STORAGE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid })
    const [authorize] = browser.opened
    expect(authorize).toBeDefined()
    const query = (authorize as URL).searchParams
    expect(query.get('code_challenge_method')).toBe('S256')
    expect(query.get('response_type')).toBe('code')
    expect(query.get('login_hint')).toBe(user.username)
    expect(query.get('state')).toMatch(/^[\w-]{32}$/)
    expect(query.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['https://storage.azure.com/.default', 'openid', 'profile', 'offline_access']))
    expect(query.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+$/)
    const redemption = emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form ?? {}
    expect(redemption).toMatchObject({ grant_type: 'authorization_code', redirect_uri: query.get('redirect_uri'), client_info: '1' })
    expect(redemption.code_verifier).toMatch(/^[\w-]{43}$/)
    expect(pkceChallenge(redemption.code_verifier ?? '')).toBe(query.get('code_challenge'))
    expect(await isListening(portOf(authorize as URL))).toBe(false)
  })

  it('a new audience and a new tenant-free scope come from the refresh token: no second browser trip', async () => {
    const user = newUser()
    const browser = httpBrowser(user.username)
    const { instance } = credential(browser)
    const record = await instance.authenticate(STORAGE)
    expect(record).toMatchObject({ username: user.username, homeAccountId: `${user.oid}.${user.tenantId}` })
    const vault = await instance.getToken(VAULT)
    expect(decodeJwt(vault.token)).toMatchObject({ aud: 'https://vault.azure.net', oid: user.oid })
    expect(emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form).toMatchObject({ grant_type: 'refresh_token' })
    expect(browser.opened).toHaveLength(1)
  })

  it('the emulator refuses a wrong or missing verifier (AADSTS501481 / refused) and a reused code (AADSTS54005)', async () => {
    const user = newUser()
    for (const mutate of [(form: URLSearchParams) => form.set('code_verifier', 'x'.repeat(43)), (form: URLSearchParams) => form.delete('code_verifier')]) {
      const browser = httpBrowser(user.username)
      const { instance } = credential(browser, { fetch: recordingFetch(mutate) })
      const error = await failure(instance.getToken(STORAGE))
      expect(error.code).toBe('AZCRED_TOKEN_REQUEST_FAILED')
      expect(error.aadstsCode).toBe('AADSTS501481')
      expect(await isListening(portOf(browser.opened[0] as URL))).toBe(false)
    }
    // Reuse: the code our credential redeemed, presented again.
    const browser = httpBrowser(user.username)
    const { instance, app } = credential(browser)
    await instance.getToken(STORAGE)
    const first = emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form ?? {}
    const again = await emulator.fetch(`${emulator.url}/${app.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(first as Record<string, string>).toString(),
    })
    expect(((await again.json()) as { error_codes: number[] }).error_codes).toEqual([54005])
  })

  it('the redirect URI must be registered: an unregistered path gets the emulator error page (AADSTS50011), no redirect, and the time limit ends the wait', async () => {
    const user = newUser()
    const app = emulator.registerApp({ publicClient: true, redirectUris: ['http://localhost/registered'] })
    const opened: string[] = []
    const { instance } = credential(
      {
        opened: [],
        openBrowser: async (url) => {
          opened.push(url)
          const result = await emulator.signInAtAuthorize(url, { username: user.username })
          expect(result.status).toBe(400)
          expect(result.page).toContain('AADSTS50011')
        },
      },
      { redirectUri: 'http://localhost/other', signInTimeoutMs: 1_000 },
      app,
    )
    expect((await failure(instance.getToken(STORAGE))).code).toBe('AZCRED_TIMEOUT')
    expect(opened).toHaveLength(1)
    // The registered path, with any loopback port, works (public client: RFC 8252 §7.3).
    const ok = credential(httpBrowser(user.username), { redirectUri: 'http://localhost/registered' }, app)
    await expect(ok.instance.getToken(STORAGE)).resolves.toMatchObject({ token: expect.any(String) })
  })

  it('a fixed port and path such as http://localhost:44300/reply works and is freed afterwards', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as { port: number }
    await new Promise((resolve) => probe.close(resolve))
    const user = newUser()
    const app = emulator.registerApp({ publicClient: true, redirectUris: ['http://localhost/reply'] })
    const browser = httpBrowser(user.username)
    const { instance } = credential(browser, { redirectUri: `http://localhost:${port}/reply` }, app)
    await instance.getToken(STORAGE)
    expect(browser.opened[0]?.searchParams.get('redirect_uri')).toBe(`http://localhost:${port}/reply`)
    expect(await isListening(port)).toBe(false)
  })

  it('a forged redirect (the state of another sign-in) is refused and nothing is redeemed; the real one then completes', async () => {
    const user = newUser()
    const other = httpBrowser(user.username, 'nothing')
    const otherCredential = credential(other)
    const stopOther = new AbortController()
    const otherSignIn = failure(otherCredential.instance.getToken(STORAGE, { abortSignal: stopOther.signal }))
    await expect.poll(() => other.opened.length).toBe(1)
    const otherRedirect = new URL((await emulator.signInAtAuthorize(String(other.opened[0]), { username: user.username })).location ?? '')
    const forgedCode = otherRedirect.searchParams.get('code') ?? ''
    secrets.add(forgedCode)

    const opened: URL[] = []
    let forged: { status: number; text: string } | undefined
    const tokenRequestsBefore = emulator.requestsTo('/oauth2/v2.0/token').length
    const { instance } = credential({
      opened,
      openBrowser: async (url) => {
        opened.push(new URL(url))
        const listener = new URL(new URL(url).searchParams.get('redirect_uri') ?? '')
        listener.searchParams.set('code', forgedCode)
        listener.searchParams.set('state', otherRedirect.searchParams.get('state') ?? '')
        const response = await fetch(listener)
        forged = { status: response.status, text: await response.text() }
        expect(emulator.requestsTo('/oauth2/v2.0/token').length).toBe(tokenRequestsBefore) // nothing redeemed
        await httpBrowser(user.username).openBrowser(url)
      },
    })
    await instance.getToken(STORAGE)
    expect(forged?.status).toBe(400)
    expect(forged?.text).toContain('does not belong to the sign-in in progress')
    const redeemed = emulator.requestsTo('/oauth2/v2.0/token').slice(tokenRequestsBefore)
    expect(redeemed).toHaveLength(1)
    expect(redeemed[0]?.form.code).not.toBe(forgedCode)
    stopOther.abort()
    expect((await otherSignIn).code).toBe('AZCRED_ABORTED')
  })

  it('cancel / decline on the emulator page → AZCRED_AUTHENTICATION_CANCELLED, listener closed, nothing redeemed', async () => {
    const user = newUser({ consentedResources: [] })
    const browser = httpBrowser(user.username, 'deny')
    const { instance } = credential(browser)
    const before = emulator.requestsTo('/oauth2/v2.0/token').length
    expect((await failure(instance.getToken(STORAGE))).code).toBe('AZCRED_AUTHENTICATION_CANCELLED')
    expect(emulator.requestsTo('/oauth2/v2.0/token').length).toBe(before)
    expect(await isListening(portOf(browser.opened[0] as URL))).toBe(false)
  })

  it('time limit → AZCRED_TIMEOUT; abort → AZCRED_ABORTED; both leave no listening socket', async () => {
    const user = newUser()
    const idle = httpBrowser(user.username, 'nothing')
    const timed = credential(idle, { signInTimeoutMs: 1_000 })
    const started = Date.now()
    expect((await failure(timed.instance.getToken(STORAGE))).code).toBe('AZCRED_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(await isListening(portOf(idle.opened[0] as URL))).toBe(false)

    const idle2 = httpBrowser(user.username, 'nothing')
    const aborted = credential(idle2)
    const controller = new AbortController()
    const pending = failure(aborted.instance.getToken(STORAGE, { abortSignal: controller.signal }))
    await expect.poll(() => idle2.opened.length).toBe(1)
    expect(await isListening(portOf(idle2.opened[0] as URL))).toBe(true)
    controller.abort()
    expect((await pending).code).toBe('AZCRED_ABORTED')
    await expect.poll(() => isListening(portOf(idle2.opened[0] as URL))).toBe(false)
  })

  it('an openBrowser that never returns holds nothing: the redirect completes the sign-in, the time limit still ends one', async () => {
    const user = newUser()
    const inner = httpBrowser(user.username)
    const { instance } = credential({
      opened: inner.opened,
      openBrowser: (url) => {
        void inner.openBrowser(url)
        return new Promise<void>(() => {}) // a launcher that never reports back
      },
    })
    await expect(instance.getToken(STORAGE)).resolves.toMatchObject({ token: expect.any(String) })
    const stuck = credential({ opened: [], openBrowser: () => new Promise<void>(() => {}) }, { signInTimeoutMs: 1_000 })
    expect((await failure(stuck.instance.getToken(STORAGE))).code).toBe('AZCRED_TIMEOUT')
  })

  it('a port in use → AZCRED_CONFIG_INVALID naming the port; no browser opened', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    try {
      const browser = httpBrowser('nobody', 'nothing')
      const { instance } = credential(browser, { redirectUri: `http://localhost:${port}` })
      const error = await failure(instance.getToken(STORAGE))
      expect(error.code).toBe('AZCRED_CONFIG_INVALID')
      expect(error.message).toContain(`port ${port} is already in use`)
      expect(browser.opened).toHaveLength(0)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('openBrowser failing → a clear error, listener closed', async () => {
    let port = 0
    const { instance } = credential({
      opened: [],
      openBrowser: (url) => {
        port = portOf(new URL(url))
        throw new Error('no display')
      },
    })
    const error = await failure(instance.getToken(STORAGE))
    expect(error.message).toMatch(/could not open a browser/)
    expect(await isListening(port)).toBe(false)
  })

  it('authenticationRecord + a shared tokenCache: a new credential is silent; disableAutomaticAuthentication never opens a browser', async () => {
    const user = newUser()
    const tokenCache = new MemoryTokenCache()
    const app = emulator.registerApp({ publicClient: true })
    const first = credential(httpBrowser(user.username), { tokenCache }, app)
    const record = await first.instance.authenticate(STORAGE)
    const nobody = httpBrowser(user.username, 'nothing')
    const second = credential(nobody, { tokenCache, authenticationRecord: record, disableAutomaticAuthentication: true }, app)
    expect(decodeJwt((await second.instance.getToken(VAULT)).token)).toMatchObject({ oid: user.oid, aud: 'https://vault.azure.net' })
    const third = credential(nobody, { disableAutomaticAuthentication: true }, app)
    expect((await failure(third.instance.getToken(STORAGE))).code).toBe('AZCRED_INTERACTION_REQUIRED')
    expect(nobody.opened).toHaveLength(0)
  })

  it('refuses bad options with AZCRED_CONFIG_INVALID', () => {
    for (const options of [
      { redirectUri: 'https://localhost' },
      { redirectUri: 'http://example.com/reply' },
      { signInTimeoutMs: 10 },
      { openBrowser: 'chrome' },
      { loginHint: 42 },
      { browserCustomizationOptions: { successMessage: 1 } },
      { tokenCachePersistenceOptions: { enabled: 'yes' } },
      { tokenCachePersistenceOptions: { enabled: true }, tokenCache: new MemoryTokenCache() },
    ]) {
      expect(() => new InteractiveBrowserCredential(options as never)).toThrowError(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    }
  })

  it('no code, verifier or token in any error, event or util.inspect output of this file', () => {
    expect(secrets.size).toBeGreaterThan(10)
    const text = exposed.join('\n')
    for (const secret of secrets) expect(text.includes(secret), 'a secret was exposed').toBe(false)
  })
})
