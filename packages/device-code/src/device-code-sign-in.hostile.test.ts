// A hostile network or a broken endpoint against the device code sign-in: verification URIs that are not
// https (or loopback http), messages that would write escape sequences to the user's terminal or spoof it
// (ANSI, C1, bidi overrides, 1 MB), messages naming another page or code, slow_down and 5xx storms,
// authorization_pending past the code's lifetime, and aborts while the device code request is in flight.
import { AzcredError } from '@azcred/core'
import { describe, expect, it } from 'vitest'
import { DeviceCodeCredential } from './device-code-credential'
import type { DeviceCodeInfo } from './device-code-sign-in'

const ARM = 'https://management.azure.com/.default'
const AUTHORITY = 'https://login.example.test'

type Answer = { status?: number; body: Record<string, unknown> }

/** A token endpoint stand-in: `devicecode` answers the device authorization; `poll(n)` answers the n-th poll. */
function endpoint(devicecode: Record<string, unknown>, poll: (n: number) => Answer = () => ({ status: 400, body: { error: 'authorization_pending' } })) {
  const seen = { devicecode: 0, polls: 0, pollTimes: [] as number[] }
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const json = (answer: Answer): Response =>
      new Response(JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { 'content-type': 'application/json' } })
    if (input.includes('/devicecode')) {
      seen.devicecode += 1
      return json({ body: devicecode })
    }
    seen.polls += 1
    seen.pollTimes.push(Date.now())
    expect(String(init?.body)).toContain('device_code=')
    return json(poll(seen.polls))
  }
  return { fetch, seen }
}

const answer = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  device_code: 'DEVICE-CODE-SECRET-1',
  user_code: 'ABCD2345',
  verification_uri: 'https://microsoft.com/devicelogin',
  expires_in: 900,
  interval: 0.05,
  message: 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD2345 to authenticate.',
  ...overrides,
})

async function failureOf(promise: Promise<unknown>): Promise<AzcredError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (caught: unknown) => caught,
  )
  if (!AzcredError.isInstance(error)) throw error
  for (const secret of ['DEVICE-CODE-SECRET']) expect(`${error.message}\n${error.stack}`).not.toContain(secret)
  return error
}

function credential(fetch: (input: string, init?: RequestInit) => Promise<Response>, prompts: DeviceCodeInfo[], extra: Record<string, unknown> = {}) {
  return new DeviceCodeCredential({
    tenantId: 'tenant',
    clientId: 'app',
    authorityHost: AUTHORITY,
    fetch,
    userPromptCallback: (info: DeviceCodeInfo) => void prompts.push(info),
    ...extra,
  } as never)
}

describe('verification_uri: https, or http on loopback only', () => {
  for (const uri of [
    'http://evil.example/devicelogin',
    'http://microsoft.com/devicelogin',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,hi',
    'https://user:pass@microsoft.com/devicelogin',
  ]) {
    it(`${uri} is AZCRED_RESPONSE_INVALID and nothing is shown`, async () => {
      const prompts: DeviceCodeInfo[] = []
      const { fetch, seen } = endpoint(answer({ verification_uri: uri }))
      const error = await failureOf(credential(fetch, prompts).getToken(ARM))
      expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
      expect(error.message).toContain('verification_uri')
      expect(prompts).toEqual([])
      expect(seen.polls).toBe(0)
    })
  }

  for (const uri of ['http://127.0.0.1:8080/devicelogin', 'http://localhost:3000/devicelogin', 'http://[::1]:3000/devicelogin']) {
    it(`${uri} (a loopback emulator) is shown`, async () => {
      const prompts: DeviceCodeInfo[] = []
      const { fetch } = endpoint(answer({ verification_uri: uri, message: undefined, expires_in: 1 }))
      await failureOf(credential(fetch, prompts).getToken(ARM))
      expect(prompts.map((prompt) => prompt.verificationUri)).toEqual([uri])
    })
  }

  it('control characters and escape sequences in the URI never reach the prompt as such', async () => {
    const prompts: DeviceCodeInfo[] = []
    const { fetch } = endpoint(answer({ verification_uri: 'https://microsoft.com/device\u001b[2Jlogin\u009b31m', expires_in: 1 }))
    await failureOf(credential(fetch, prompts).getToken(ARM)).catch(() => undefined)
    for (const prompt of prompts) expect(`${prompt.verificationUri}${prompt.message}`).not.toMatch(/[\p{Cc}\p{Cf}]/u)
  })
})

describe('message: shown without anything a terminal would act on, localised text kept', () => {
  it('ANSI and C1 escapes, OSC, bidi overrides, zero-width characters, line breaks and 1 MB are removed or cut', async () => {
    const hostile =
      'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD2345 to authenticate.' +
      '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\u001b[2J\u009b31m\r\nfake line\u202eevil\u200b\u2028' +
      'x'.repeat(1_000_000)
    const prompts: DeviceCodeInfo[] = []
    const { fetch } = endpoint(answer({ message: hostile, expires_in: 1 }))
    await failureOf(credential(fetch, prompts).getToken(ARM))
    expect(prompts).toHaveLength(1)
    const { message } = prompts[0] as DeviceCodeInfo
    expect(message).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u)
    expect(message.length).toBeLessThanOrEqual(1000)
    expect(message).toContain('https://microsoft.com/devicelogin')
    expect(message).toContain('ABCD2345')
  })

  it("Entra's localised message is shown as Entra wrote it", async () => {
    const german =
      'Um sich anzumelden, öffnen Sie die Seite https://microsoft.com/devicelogin in einem Webbrowser, und geben Sie den Code ABCD2345 ein, um sich zu authentifizieren.'
    const japanese = 'サインインするには、Web ブラウザーを使用して https://microsoft.com/devicelogin を開き、コード ABCD2345 を入力して認証します。'
    for (const message of [german, japanese]) {
      const prompts: DeviceCodeInfo[] = []
      const { fetch } = endpoint(answer({ message, expires_in: 1 }))
      await failureOf(credential(fetch, prompts).getToken(ARM))
      expect(prompts[0]?.message).toBe(message)
    }
  })

  it('a message that does not name the verification page and the user code is replaced by one that does', async () => {
    for (const message of [
      'To sign in, open https://evil.example/devicelogin and enter the code ABCD2345.',
      'To sign in, open the page https://microsoft.com/devicelogin and enter the code ZZZZ9999.',
      '',
    ]) {
      const prompts: DeviceCodeInfo[] = []
      const { fetch } = endpoint(answer({ message, expires_in: 1 }))
      await failureOf(credential(fetch, prompts).getToken(ARM))
      const shown = prompts[0]?.message ?? ''
      expect(shown).toContain('https://microsoft.com/devicelogin')
      expect(shown).toContain('ABCD2345')
      expect(shown).not.toContain('evil.example')
      expect(shown).not.toContain('ZZZZ9999')
    }
  })
})

describe('storms and lifetimes are bounded', () => {
  it('a slow_down storm: the interval grows by 5 s each time, and the sign-in ends with the code (AZCRED_TIMEOUT), few polls', async () => {
    const prompts: DeviceCodeInfo[] = []
    const { fetch, seen } = endpoint(answer({ expires_in: 2 }), () => ({ status: 400, body: { error: 'slow_down' } }))
    const startedAt = Date.now()
    const error = await failureOf(credential(fetch, prompts).getToken(ARM))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(Date.now() - startedAt).toBeLessThan(4_000)
    expect(seen.polls).toBe(1)
  })

  it('authorization_pending forever: polling stops at expires_in, not later', async () => {
    const prompts: DeviceCodeInfo[] = []
    const { fetch, seen } = endpoint(answer({ expires_in: 1, interval: 0.1 }))
    const startedAt = Date.now()
    const error = await failureOf(credential(fetch, prompts).getToken(ARM))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(error.message).toMatch(/expired/)
    expect(Date.now() - startedAt).toBeLessThan(2_500)
    const last = seen.pollTimes.at(-1) ?? 0
    expect(last - startedAt).toBeLessThanOrEqual(1_100)
    expect(seen.polls).toBeLessThanOrEqual(11)
  })

  it('signInTimeoutMs shorter than expires_in wins', async () => {
    const prompts: DeviceCodeInfo[] = []
    const { fetch } = endpoint(answer({ expires_in: 900, interval: 0.05 }))
    const startedAt = Date.now()
    const error = await failureOf(credential(fetch, prompts, { signInTimeoutMs: 400 }).getToken(ARM))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(error.message).toMatch(/signInTimeoutMs/)
    expect(Date.now() - startedAt).toBeLessThan(1_500)
  })

  it('a 5xx storm ends after a bounded number of polls with the server error, not a new code', async () => {
    const prompts: DeviceCodeInfo[] = []
    const { fetch, seen } = endpoint(answer({ expires_in: 60 }), () => ({ status: 503, body: { error: 'temporarily_unavailable' } }))
    const error = await failureOf(credential(fetch, prompts).getToken(ARM))
    expect(error.code).not.toBe('AZCRED_TIMEOUT')
    expect(seen.polls).toBeLessThanOrEqual(5)
    expect(seen.devicecode).toBe(1)
    expect(prompts).toHaveLength(1)
  })

  it('huge, negative and NaN interval or expires_in: refused or bounded', async () => {
    for (const expires_in of [-1, Number.NaN, 'NaN', '1e9', 1e12, 0, null]) {
      const prompts: DeviceCodeInfo[] = []
      const { fetch } = endpoint(answer({ expires_in }))
      const error = await failureOf(credential(fetch, prompts).getToken(ARM))
      expect(error.code).toBe('AZCRED_RESPONSE_INVALID')
      expect(prompts).toEqual([])
    }
    for (const interval of [-5, Number.NaN, 'NaN', 1e12]) {
      const prompts: DeviceCodeInfo[] = []
      const { fetch, seen } = endpoint(answer({ expires_in: 1, interval }))
      const startedAt = Date.now()
      await failureOf(credential(fetch, prompts).getToken(ARM))
      // Bounded both ways: the default 5 s or at most 60 s is longer than the 1 s code: no poll, ends with the code.
      expect(seen.polls).toBe(0)
      expect(Date.now() - startedAt).toBeLessThan(2_500)
    }
  })
})

describe('abort', () => {
  it('while the device code request is in flight: AZCRED_ABORTED at once, nothing shown, no poll', async () => {
    const prompts: DeviceCodeInfo[] = []
    let polls = 0
    const fetch = (input: string, init?: RequestInit): Promise<Response> => {
      if (!input.includes('/devicecode')) polls += 1
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))
    }
    const controller = new AbortController()
    const pending = credential(fetch, prompts).getToken(ARM, { abortSignal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    const startedAt = Date.now()
    const error = await failureOf(pending)
    expect(error.code).toBe('AZCRED_ABORTED')
    expect(Date.now() - startedAt).toBeLessThan(1_000)
    expect(prompts).toEqual([])
    expect(polls).toBe(0)
  })
})

describe('concurrent callers', () => {
  it('getToken for three resources at once on a fresh credential: one device code, one prompt, three tokens', async () => {
    const { startEntraEmulator } = await import('@azcred/entra-emulator')
    const emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: 0.1 })
    try {
      const { clientId } = emulator.registerApp({ publicClient: true })
      const user = emulator.addUser({ username: 'grace@contoso.onmicrosoft.com' })
      const prompts: DeviceCodeInfo[] = []
      const made = new DeviceCodeCredential({
        tenantId: emulator.tenantId,
        clientId,
        authorityHost: emulator.authorityHost,
        fetch: emulator.fetch,
        userPromptCallback: (info: DeviceCodeInfo) => void prompts.push(info),
        extraScopesToConsent: ['https://storage.azure.com/.default', 'https://vault.azure.net/.default'],
      })
      const approve = (async () => {
        const pending = await emulator.deviceCodes.waitForPending({ clientId, timeoutMs: 10_000 })
        emulator.deviceCodes.approve(pending.userCode, user.username)
      })()
      const tokens = await Promise.all([ARM, 'https://storage.azure.com/.default', 'https://vault.azure.net/.default'].map((scope) => made.getToken(scope)))
      await approve
      expect(prompts).toHaveLength(1)
      expect(emulator.requestsTo('/oauth2/v2.0/devicecode')).toHaveLength(1)
      expect(new Set(tokens.map((token) => token.token)).size).toBe(3)
    } finally {
      await (emulator as unknown as { close(): Promise<void> }).close()
    }
  })
})

describe('the time limit holds against a black-holed network', () => {
  it('signInTimeoutMs ends the sign-in on time even when a poll never answers (no 30 s HTTP timeout past it)', async () => {
    const prompts: DeviceCodeInfo[] = []
    const hanging = async (input: string, init?: RequestInit): Promise<Response> => {
      if (input.includes('/devicecode')) {
        return new Response(JSON.stringify(answer({ expires_in: 900, interval: 0.05 })), { status: 200, headers: { 'content-type': 'application/json' } })
      }
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))
    }
    const startedAt = Date.now()
    const error = await failureOf(credential(hanging, prompts, { signInTimeoutMs: 500 }).getToken(ARM))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(error.message).toMatch(/signInTimeoutMs/)
    expect(Date.now() - startedAt).toBeLessThan(2_000)
  })

  it('signInTimeoutMs also bounds a device code request that never answers', async () => {
    const prompts: DeviceCodeInfo[] = []
    const hanging = (_input: string, init?: RequestInit): Promise<Response> =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))
    const startedAt = Date.now()
    const error = await failureOf(credential(hanging, prompts, { signInTimeoutMs: 500 }).getToken(ARM))
    expect(error.code).toBe('AZCRED_TIMEOUT')
    expect(Date.now() - startedAt).toBeLessThan(2_000)
    expect(prompts).toEqual([])
  })
})
