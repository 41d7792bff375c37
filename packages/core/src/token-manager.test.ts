import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AzcredError } from './azcred-error'
import type { AccessToken, TokenCredential } from './token-credential'
import { TokenLifecycle } from './token-lifecycle'
import { TokenManager } from './token-manager'

const MINUTE = 60_000

/** A credential on the real engine whose flow counts requests and can be told to fail. */
function countingCredential(name: string, options: { refreshInMs?: number; fail?: boolean } = {}) {
  const state = { requests: 0, fail: options.fail ?? false }
  const lifecycle = new TokenLifecycle({
    credentialName: name,
    tenantId: 'contoso.onmicrosoft.com',
    random: () => 0,
    retry: { maxAttempts: 1 },
    fetchToken: async () => {
      state.requests += 1
      if (state.fail) throw new AzcredError('AZCRED_NETWORK_ERROR', `${name} unreachable`)
      const token: AccessToken = { token: `${name}-${state.requests}`, expiresOnTimestamp: Date.now() + 60 * MINUTE }
      if (options.refreshInMs !== undefined) token.refreshAfterTimestamp = Date.now() + options.refreshInMs
      return token
    },
  })
  const credential: TokenCredential = { getToken: (scopes, getTokenOptions) => lifecycle.getToken(scopes, getTokenOptions) }
  return { credential, state }
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-11-22T10:00:00Z') })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('TokenManager', () => {
  it('holds credentials by name, added and removed at run time', async () => {
    const manager = new TokenManager()
    const west = countingCredential('west')
    manager.add('west', west.credential, { scopes: 'https://a/.default' })
    manager.add('east', countingCredential('east').credential, { scopes: 'https://a/.default' })
    expect(manager.names()).toEqual(['west', 'east'])
    expect((await manager.getToken('west')).token).toBe('west-1')
    expect(() => manager.add('west', west.credential, { scopes: 'x' })).toThrow(/already managed/)
    expect(manager.remove('east')).toBe(true)
    expect(manager.remove('east')).toBe(false)
    await expect(manager.getToken('east')).rejects.toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('known: west') })
  })

  it('start() awaits every prefetch and rejects when one fails', async () => {
    const manager = new TokenManager()
    const good = countingCredential('good')
    manager.add('good', good.credential, { scopes: 'https://a/.default' })
    manager.add('bad', countingCredential('bad', { fail: true }).credential, { scopes: 'https://a/.default' })
    await expect(manager.start()).rejects.toMatchObject({ code: 'AZCRED_NETWORK_ERROR' })
    expect(good.state.requests).toBe(1)
    manager.stop()
  })

  it('start({ wait: false }) prefetches in the background; credentials added while running are prefetched too', async () => {
    const manager = new TokenManager()
    const first = countingCredential('first')
    manager.add('first', first.credential, { scopes: 'https://a/.default' })
    await manager.start({ wait: false })
    await vi.advanceTimersByTimeAsync(0)
    expect(first.state.requests).toBe(1)
    const later = countingCredential('later')
    manager.add('later', later.credential, { scopes: 'https://a/.default' })
    await vi.advanceTimersByTimeAsync(0)
    expect(later.state.requests).toBe(1)
    manager.stop()
  })

  it('keeps tokens fresh with timers, so callers never wait, and stop() clears every timer', async () => {
    const manager = new TokenManager()
    const pool = countingCredential('pool', { refreshInMs: 30 * MINUTE })
    manager.add('pool', pool.credential, { scopes: 'https://a/.default' })
    await manager.start()
    expect(manager.pendingTimers).toBe(1)
    await vi.advanceTimersByTimeAsync(30 * MINUTE + 10)
    expect(pool.state.requests).toBe(2)
    expect((await manager.getToken('pool')).token).toBe('pool-2')
    await vi.advanceTimersByTimeAsync(30 * MINUTE + 10)
    expect(pool.state.requests).toBe(3)
    manager.stop()
    expect(manager.pendingTimers).toBe(0)
    await vi.advanceTimersByTimeAsync(120 * MINUTE)
    expect(pool.state.requests).toBe(3)
  })

  it('a failing refresh is tried again later, not in a loop', async () => {
    const manager = new TokenManager()
    const flaky = countingCredential('flaky', { refreshInMs: 30 * MINUTE })
    manager.add('flaky', flaky.credential, { scopes: 'https://a/.default' })
    await manager.start()
    flaky.state.fail = true
    await vi.advanceTimersByTimeAsync(30 * MINUTE + 10)
    const afterFirstRefresh = flaky.state.requests
    await vi.advanceTimersByTimeAsync(5 * MINUTE)
    // One attempt per 30 s at most (the engine's retry interval), never a hot loop.
    expect(flaky.state.requests - afterFirstRefresh).toBeLessThanOrEqual(11)
    expect(flaky.state.requests - afterFirstRefresh).toBeGreaterThanOrEqual(5)
    expect((await manager.getToken('flaky')).token).toBe('flaky-1') // still valid: served
    manager.stop()
  })

  it('stop() aborts the prefetch still in flight, and its retries', async () => {
    const signals: AbortSignal[] = []
    let requests = 0
    const lifecycle = new TokenLifecycle({
      credentialName: 'slow',
      tenantId: 'contoso.onmicrosoft.com',
      random: () => 0,
      retry: { baseDelayMs: 1000, maxElapsedMs: 60_000 },
      fetchToken: async (request) => {
        requests += 1
        signals.push(request.abortSignal as AbortSignal)
        throw new AzcredError('AZCRED_NETWORK_ERROR', 'reset')
      },
    })
    const manager = new TokenManager()
    manager.add('slow', { getToken: (scopes, options) => lifecycle.getToken(scopes, options) }, { scopes: 'https://a/.default' })
    await manager.start({ wait: false })
    await vi.advanceTimersByTimeAsync(600)
    expect(requests).toBe(2)
    manager.stop()
    expect(signals[0]?.aborted).toBe(true)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(requests).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stop() aborts a keep-fresh refresh in flight', async () => {
    const signals: AbortSignal[] = []
    const lifecycle = new TokenLifecycle({
      credentialName: 'pool',
      tenantId: 'contoso.onmicrosoft.com',
      fetchToken: (request) => {
        signals.push(request.abortSignal as AbortSignal)
        if (signals.length === 1)
          return Promise.resolve({ token: 'pool-1', expiresOnTimestamp: Date.now() + 60 * MINUTE, refreshAfterTimestamp: Date.now() + 30 * MINUTE })
        return new Promise<AccessToken>(() => {}) // the refresh never answers
      },
    })
    const manager = new TokenManager()
    manager.add('pool', { getToken: (scopes, options) => lifecycle.getToken(scopes, options) }, { scopes: 'https://a/.default' })
    await manager.start()
    await vi.advanceTimersByTimeAsync(30 * MINUTE + 10)
    expect(signals).toHaveLength(2)
    expect(signals[1]?.aborted).toBe(false)
    manager.stop()
    expect(signals[1]?.aborted).toBe(true)
    expect((await manager.getToken('pool')).token).toBe('pool-1') // still valid: served
  })

  it('add() refuses wrong argument types with AZCRED_CONFIG_INVALID, not a TypeError', () => {
    const manager = new TokenManager()
    const { credential } = countingCredential('ok')
    for (const args of [
      [42, credential, { scopes: 'x' }],
      ['name', {}, { scopes: 'x' }],
      ['name', null, { scopes: 'x' }],
      ['name', credential, undefined],
      ['name', credential, {}],
    ]) {
      expect(() => (manager.add as (...values: unknown[]) => void)(...args)).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    }
  })
})
