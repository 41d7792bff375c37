import { inspect } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { failureOf } from './__fixtures__/failure-of'
import { AzcredError } from './azcred-error'
import { ChainedTokenCredential } from './chained-token-credential'
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential'

const SCOPE = 'https://vault.azure.net/.default'
const HOUR = 3_600_000

/** A credential that records its calls and either returns a token or throws what `fail` gives. */
class FakeCredential implements TokenCredential {
  calls = 0
  lastOptions: GetTokenOptions | undefined
  constructor(
    readonly label: string,
    public behaviour: 'token' | 'unavailable' | 'config' | 'null' = 'token',
  ) {}
  async getToken(_scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.calls++
    this.lastOptions = options
    if (this.behaviour === 'unavailable') throw new AzcredError('AZCRED_SOURCE_UNAVAILABLE', `${this.label} is not configured here`)
    if (this.behaviour === 'config') throw new AzcredError('AZCRED_CONFIG_INVALID', `${this.label} options are wrong`)
    if (this.behaviour === 'null') return null
    return { token: `${this.label}-token`, expiresOnTimestamp: Date.now() + HOUR }
  }
}

describe('ChainedTokenCredential', () => {
  it('tries sources in order and returns the first token; later sources are never called', async () => {
    const first = new FakeCredential('first', 'unavailable')
    const second = new FakeCredential('second')
    const third = new FakeCredential('third')
    const chain = new ChainedTokenCredential(first, second, third)
    expect((await chain.getToken(SCOPE)).token).toBe('second-token')
    expect([first.calls, second.calls, third.calls]).toEqual([1, 1, 0])
  })

  it('takes null options as none (some callers pass null), never a bare TypeError', async () => {
    const first = new FakeCredential('first', 'unavailable')
    const second = new FakeCredential('second')
    const chain = new ChainedTokenCredential(first, second)
    expect((await chain.getToken(SCOPE, null)).token).toBe('second-token')
  })

  it('passes the options (abortSignal, tenantId, claims, enableCae) to each source unchanged', async () => {
    const source = new FakeCredential('only')
    const options: GetTokenOptions = { tenantId: 'contoso.onmicrosoft.com', claims: '{"a":1}', enableCae: true, abortSignal: new AbortController().signal }
    await new ChainedTokenCredential(source).getToken(SCOPE, options)
    expect(source.lastOptions).toBe(options)
  })

  it('stops on any error other than unavailable and rethrows it as is, without trying later sources', async () => {
    const refused = new FakeCredential('refused', 'config')
    const later = new FakeCredential('later')
    const error = await failureOf(new ChainedTokenCredential(refused, later).getToken(SCOPE))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toBe('refused options are wrong')
    expect(later.calls).toBe(0)

    // A plain Error (not an AzcredError) is not "unavailable" either: it is rethrown, same object.
    const boom = new Error('boom')
    const throwing = { getToken: () => Promise.reject(boom) }
    await expect(new ChainedTokenCredential(throwing, later).getToken(SCOPE)).rejects.toBe(boom)
    expect(later.calls).toBe(0)

    // An interaction-required-like error stops the chain (unlike @azure/identity's AuthenticationRequiredError).
    const interaction = Object.assign(new Error('sign in again'), { name: 'AuthenticationRequiredError' })
    await expect(new ChainedTokenCredential({ getToken: () => Promise.reject(interaction) }, later).getToken(SCOPE)).rejects.toBe(interaction)
    expect(later.calls).toBe(0)
  })

  it('moves on past an error named CredentialUnavailableError that is not an AzcredError (another library)', async () => {
    const foreign = { getToken: () => Promise.reject(Object.assign(new Error('foreign source is off'), { name: 'CredentialUnavailableError' })) }
    const second = new FakeCredential('second')
    expect((await new ChainedTokenCredential(foreign, second).getToken(SCOPE)).token).toBe('second-token')
  })

  it('throws one AZCRED_SOURCE_UNAVAILABLE with a line per source, named CredentialUnavailableError', async () => {
    const named = { name: 'MyNamedSource', getToken: () => Promise.reject(new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'MY_ENV is not set')) }
    const anonymous = { getToken: () => Promise.reject(new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'no endpoint answered')) }
    const empty = new FakeCredential('empty', 'null')
    const error = await failureOf(new ChainedTokenCredential(new FakeCredential('fake', 'unavailable'), named, anonymous, empty).getToken(SCOPE))
    expect(AzcredError.isInstance(error)).toBe(true)
    expect(error.code).toBe('AZCRED_SOURCE_UNAVAILABLE')
    expect(error.name).toBe('CredentialUnavailableError')
    expect(error.message.split('\n')).toEqual([
      'every source of the chain is unavailable (one line per source):',
      'FakeCredential: fake is not configured here',
      'MyNamedSource: MY_ENV is not set',
      'source 3: no endpoint answered',
      'FakeCredential: returned no token',
    ])
  })

  it('cleans and caps each reason: control characters removed, long reasons cut', async () => {
    const noisy = {
      name: 'Noisy\u001b[31m',
      getToken: () => Promise.reject(new AzcredError('AZCRED_SOURCE_UNAVAILABLE', `bad\u0007 \u202Ereason ${'x'.repeat(1000)}`)),
    }
    const error = await failureOf(new ChainedTokenCredential(noisy).getToken(SCOPE))
    const [, line = ''] = error.message.split('\n')
    expect(line.startsWith('Noisy[31m: bad reason xxx')).toBe(true)
    expect(line).not.toMatch(/[^ -~]/)
    expect(line.length).toBeLessThanOrEqual('Noisy[31m: '.length + 300)
  })

  it('nests: an exhausted chain is itself unavailable, and its lines are indented under its own', async () => {
    const inner = new ChainedTokenCredential(new FakeCredential('a', 'unavailable'), new FakeCredential('b', 'unavailable'))
    const innermost = new ChainedTokenCredential(new FakeCredential('d', 'unavailable'))
    const middle = new ChainedTokenCredential(new FakeCredential('c', 'unavailable'), innermost)
    const outer = new ChainedTokenCredential(inner, middle)
    const error = await failureOf(outer.getToken(SCOPE))
    expect(error.code).toBe('AZCRED_SOURCE_UNAVAILABLE')
    expect(error.message.split('\n')).toEqual([
      'every source of the chain is unavailable (one line per source):',
      'ChainedTokenCredential: every source of the chain is unavailable (one line per source):',
      '  FakeCredential: a is not configured here',
      '  FakeCredential: b is not configured here',
      'ChainedTokenCredential: every source of the chain is unavailable (one line per source):',
      '  FakeCredential: c is not configured here',
      '  ChainedTokenCredential: every source of the chain is unavailable (one line per source):',
      '    FakeCredential: d is not configured here',
    ])

    // A nested chain that works gives its token to the outer one.
    const working = new ChainedTokenCredential(new FakeCredential('e', 'unavailable'), new FakeCredential('f'))
    expect((await new ChainedTokenCredential(inner, working).getToken(SCOPE)).token).toBe('f-token')
  })

  it('remembers the source that worked: later calls go straight to it', async () => {
    const first = new FakeCredential('first', 'unavailable')
    const second = new FakeCredential('second')
    const third = new FakeCredential('third')
    const chain = new ChainedTokenCredential(first, second, third)
    await chain.getToken(SCOPE)
    first.behaviour = 'token' // now available, but the chain keeps the source it chose
    expect((await chain.getToken(SCOPE)).token).toBe('second-token')
    expect((await chain.getToken('https://storage.azure.com/.default')).token).toBe('second-token')
    expect([first.calls, second.calls, third.calls]).toEqual([1, 3, 0])
  })

  it('keeps using the remembered source when it later becomes unavailable: unavailable with its one line, no fallback', async () => {
    const first = new FakeCredential('first')
    const second = new FakeCredential('second')
    const chain = new ChainedTokenCredential(first, second)
    await chain.getToken(SCOPE)
    first.behaviour = 'unavailable'
    const error = await failureOf(chain.getToken(SCOPE))
    expect(error.code).toBe('AZCRED_SOURCE_UNAVAILABLE')
    expect(error.message.split('\n')).toEqual([
      "the chain's remembered source is no longer available (the chain keeps using it):",
      'FakeCredential: first is not configured here',
    ])
    expect(second.calls).toBe(0)
    // Another error of the remembered source is rethrown as is.
    first.behaviour = 'config'
    await expect(chain.getToken(SCOPE)).rejects.toThrow('first options are wrong')
    first.behaviour = 'token'
    expect((await chain.getToken(SCOPE)).token).toBe('first-token')
  })

  it('a source that was tried but failed with another error is not remembered', async () => {
    const first = new FakeCredential('first', 'config')
    const second = new FakeCredential('second')
    const chain = new ChainedTokenCredential(first, second)
    await expect(chain.getToken(SCOPE)).rejects.toThrow('first options are wrong')
    first.behaviour = 'unavailable'
    expect((await chain.getToken(SCOPE)).token).toBe('second-token')
    first.behaviour = 'token'
    expect((await chain.getToken(SCOPE)).token).toBe('second-token')
  })
})

describe('ChainedTokenCredential lazy sources', () => {
  it('never calls a factory when an earlier source works', async () => {
    const factory = vi.fn(() => new FakeCredential('lazy'))
    const chain = new ChainedTokenCredential(new FakeCredential('eager'), factory)
    await chain.getToken(SCOPE)
    await chain.getToken(SCOPE)
    expect(factory).not.toHaveBeenCalled()
  })

  it('loads a factory when reached: a credential, a promise of one, or a module with a default export', async () => {
    const off = new FakeCredential('off', 'unavailable')
    expect((await new ChainedTokenCredential(off, () => new FakeCredential('sync')).getToken(SCOPE)).token).toBe('sync-token')
    expect((await new ChainedTokenCredential(off, async () => new FakeCredential('async')).getToken(SCOPE)).token).toBe('async-token')
    const moduleFactory = async () => ({ default: new FakeCredential('module') })
    expect((await new ChainedTokenCredential(off, moduleFactory).getToken(SCOPE)).token).toBe('module-token')
    // A real dynamic import of a module whose default export is a credential.
    const imported = () => import('./__fixtures__/chain-default-credential')
    expect((await new ChainedTokenCredential(off, imported).getToken(SCOPE)).token).toBe('from-module-token')
  })

  it('loads a factory once, also for concurrent first calls, and keeps the credential', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const loaded = new FakeCredential('loaded', 'unavailable')
    const factory = vi.fn(async () => {
      await gate
      return loaded
    })
    const last = new FakeCredential('last')
    const chain = new ChainedTokenCredential(factory, last)
    const calls = Array.from({ length: 5 }, () => chain.getToken(SCOPE))
    release()
    const tokens = await Promise.all(calls)
    expect(tokens.map((token) => token.token)).toEqual(Array(5).fill('last-token'))
    expect(factory).toHaveBeenCalledTimes(1)
    expect(loaded.calls).toBe(5)
  })

  it('a factory throwing AZCRED_SOURCE_UNAVAILABLE counts as unavailable, is named by its function, and runs again on a later call', async () => {
    let available = false
    let runs = 0
    function workloadIdentity(): TokenCredential {
      runs++
      if (!available) throw new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'AZURE_FEDERATED_TOKEN_FILE is not set')
      return new FakeCredential('wi')
    }
    const chain = new ChainedTokenCredential(workloadIdentity, () => Promise.reject(new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'package not installed')))
    const error = await failureOf(chain.getToken(SCOPE))
    expect(error.message.split('\n')).toEqual([
      'every source of the chain is unavailable (one line per source):',
      'source 1 (workloadIdentity): AZURE_FEDERATED_TOKEN_FILE is not set',
      'source 2: package not installed',
    ])
    available = true
    expect((await chain.getToken(SCOPE)).token).toBe('wi-token')
    expect(runs).toBe(2)
  })

  it('a factory failing another way stops the chain with AZCRED_CONFIG_INVALID, quoting no message', async () => {
    const secret = 'planted-secret-Zq9'
    const later = new FakeCredential('later')
    const cases: Array<[() => never | Promise<never>, RegExp]> = [
      [
        () => {
          throw new TypeError(`bad clientSecret ${secret}`)
        },
        /source 1: its factory failed \(TypeError\)/,
      ],
      [() => Promise.reject(Object.assign(new Error(`cannot open /home/${secret}`), { code: 'ENOENT' })), /source 1: its factory failed \(ENOENT\)/],
      [() => Promise.reject(`${secret}`), /source 1: its factory failed \(string\)/],
    ]
    for (const [factory, message] of cases) {
      const error = await failureOf(new ChainedTokenCredential(factory, later).getToken(SCOPE))
      expect(error.code).toBe('AZCRED_CONFIG_INVALID')
      expect(error.message).toMatch(message)
      for (const text of [error.message, String(error.stack), JSON.stringify(error), inspect(error, { depth: 5 })]) {
        expect(text).not.toContain(secret)
      }
    }
    expect(later.calls).toBe(0)
  })

  it('a factory that yields no credential is AZCRED_CONFIG_INVALID', async () => {
    const notACredential = (() => ({ token: 'x' })) as unknown as () => TokenCredential
    const error = await failureOf(new ChainedTokenCredential(notACredential).getToken(SCOPE))
    expect(error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(error.message).toMatch(/source 1: its factory gave neither a TokenCredential nor a module whose default export is one/)
  })

  it('the constructor refuses no sources and a source that is neither a credential nor a function', () => {
    expect(() => new ChainedTokenCredential()).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    expect(() => new ChainedTokenCredential(new FakeCredential('a'), {} as TokenCredential)).toThrow(/source 2 is neither a TokenCredential/)
    expect(() => new ChainedTokenCredential(null as unknown as TokenCredential)).toThrow(/source 1 is neither/)
  })
})

describe('ChainedTokenCredential abort', () => {
  it('honours the abort signal between sources: the next source is not tried', async () => {
    const controller = new AbortController()
    const first = {
      getToken: async () => {
        controller.abort()
        throw new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'off')
      },
    }
    const factory = vi.fn(() => new FakeCredential('never'))
    const error = await failureOf(new ChainedTokenCredential(first, factory).getToken(SCOPE, { abortSignal: controller.signal }))
    expect(error.code).toBe('AZCRED_ABORTED')
    expect(factory).not.toHaveBeenCalled()
  })

  it('an already fired signal ends the chain before the first source', async () => {
    const controller = new AbortController()
    controller.abort()
    const source = new FakeCredential('a')
    await expect(new ChainedTokenCredential(source).getToken(SCOPE, { abortSignal: controller.signal })).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(source.calls).toBe(0)
  })
})

describe('ChainedTokenCredential and @azure/identity', () => {
  const ENV_NAMES = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_USERNAME', 'AZURE_PASSWORD']
  const saved = new Map<string, string | undefined>()
  function clearEnv(): void {
    for (const name of ENV_NAMES) {
      saved.set(name, process.env[name])
      delete process.env[name]
    }
  }
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    saved.clear()
  })

  it("skips @azure/identity's EnvironmentCredential when it is unavailable (CredentialUnavailableError) and lists its reason", async () => {
    clearEnv()
    const { EnvironmentCredential } = await import('@azure/identity')
    const environment = new EnvironmentCredential()
    const fallback = new FakeCredential('fallback')
    expect((await new ChainedTokenCredential(environment, fallback).getToken(SCOPE)).token).toBe('fallback-token')

    const error = await failureOf(new ChainedTokenCredential(environment, new FakeCredential('off', 'unavailable')).getToken(SCOPE))
    const lines = error.message.split('\n')
    expect(lines[1]).toMatch(/^EnvironmentCredential: EnvironmentCredential is unavailable/)
    expect(lines[2]).toBe('FakeCredential: off is not configured here')
  })

  it("our exhausted chain inside @azure/identity's ChainedTokenCredential is skipped; another error of ours stops it", async () => {
    const identity = await import('@azure/identity')
    const ours = new ChainedTokenCredential(new FakeCredential('a', 'unavailable'), () => new FakeCredential('b', 'unavailable'))
    const after = new FakeCredential('after')
    const official = new identity.ChainedTokenCredential(ours, after)
    expect((await official.getToken(SCOPE))?.token).toBe('after-token')

    const stopping = new ChainedTokenCredential(new FakeCredential('a', 'unavailable'), new FakeCredential('b', 'config'))
    await expect(new identity.ChainedTokenCredential(stopping, after).getToken(SCOPE)).rejects.toThrow('b options are wrong')
    expect(after.calls).toBe(1)
  })
})
