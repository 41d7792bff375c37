import { AzcredError } from './azcred-error'
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential'

/**
 * How the manager holds one credential.
 * @public
 */
export interface ManagedCredentialOptions {
  /** The scopes this name's tokens are for. */
  scopes: string | string[]
  /** Keep the token fresh with a timer, so callers never wait for a refresh. Default true. */
  keepFresh?: boolean
}

/**
 * Options of {@link TokenManager.start}.
 * @public
 */
export interface TokenManagerStartOptions {
  /** Wait for every first token (and fail if one fails), or prefetch in the background. Default true. */
  wait?: boolean
}

interface Managed {
  credential: TokenCredential
  scopes: string | string[]
  keepFresh: boolean
  timer: ReturnType<typeof setTimeout> | undefined
}

// When a token carries no refresh time, or it has passed, look again after this long.
const RECHECK_MS = 30_000
const MAX_TIMER_MS = 2_147_000_000

/**
 * Holds several credentials by name (tenants, regions, Cognito pools) in one process: add and
 * remove at run time, prefetch on start (awaited or in the background), keep tokens fresh with
 * timers, and `stop()` to clear every timer so the process can exit.
 *
 * @example
 * const tokens = new TokenManager()
 * tokens.add('contoso', new ClientSecretCredential(t1, c1, s1), { scopes: 'https://management.azure.com/.default' })
 * await tokens.start()
 * const { token } = await tokens.getToken('contoso')
 * @public
 */
export class TokenManager {
  readonly #managed = new Map<string, Managed>()
  #running = false
  /** Aborted by `stop()`: passed to every call the manager makes itself, so its requests and retries end. */
  #stopping: AbortController | undefined

  /**
   * Adds a credential under a name; prefetches it at once when the manager is running.
   * @throws AzcredError AZCRED_CONFIG_INVALID when the name is taken or empty, `options.scopes` is missing, or the credential has no `getToken`.
   */
  add(name: string, credential: TokenCredential, options: ManagedCredentialOptions): void {
    if (typeof name !== 'string' || name.trim() === '')
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'TokenManager.add: name is empty: give each credential a name')
    if (typeof credential?.getToken !== 'function') {
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'TokenManager.add: credential must have a getToken method (a TokenCredential)')
    }
    if (this.#managed.has(name))
      throw new AzcredError('AZCRED_CONFIG_INVALID', `TokenManager.add: "${name}" is already managed: remove it first or pick another name`)
    if (options?.scopes === undefined)
      throw new AzcredError('AZCRED_CONFIG_INVALID', "TokenManager.add: options.scopes is missing: pass the scopes this name's tokens are for")
    this.#managed.set(name, { credential, scopes: options.scopes, keepFresh: options.keepFresh ?? true, timer: undefined })
    if (this.#running) this.#prefetch(name).catch(() => {})
  }

  /** Removes a credential and its timer; returns false when the name was unknown. */
  remove(name: string): boolean {
    const managed = this.#managed.get(name)
    if (managed === undefined) return false
    clearTimeout(managed.timer)
    return this.#managed.delete(name)
  }

  /** The managed names. */
  names(): string[] {
    return [...this.#managed.keys()]
  }

  /** How many keep-fresh timers are pending (0 after `stop()`). */
  get pendingTimers(): number {
    let count = 0
    for (const managed of this.#managed.values()) if (managed.timer !== undefined) count += 1
    return count
  }

  /**
   * A token for the named credential's scopes.
   * @throws AzcredError AZCRED_CONFIG_INVALID for an unknown name, or the credential's own error.
   */
  async getToken(name: string, options?: GetTokenOptions): Promise<AccessToken> {
    const managed = this.#managed.get(name)
    if (managed === undefined) {
      throw new AzcredError(
        'AZCRED_CONFIG_INVALID',
        `TokenManager has no credential named "${name}": add it first (known: ${this.names().join(', ') || 'none'})`,
      )
    }
    const token = await managed.credential.getToken(managed.scopes, options)
    if (token === null) throw new AzcredError('AZCRED_RESPONSE_INVALID', `credential "${name}" returned no token`)
    if (this.#running && managed.keepFresh && this.#managed.get(name) === managed) this.#schedule(name, managed, token)
    return token
  }

  /**
   * Starts the manager: prefetches every credential, awaited (rejecting with the first failure) or
   * in the background.
   */
  async start(options: TokenManagerStartOptions = {}): Promise<void> {
    this.#running = true
    this.#stopping ??= new AbortController()
    const prefetches = this.names().map((name) => this.#prefetch(name))
    if (options.wait === false) {
      for (const prefetch of prefetches) prefetch.catch(() => {})
      return
    }
    await Promise.all(prefetches)
  }

  /**
   * Stops keeping tokens fresh: clears every timer and aborts the manager's own prefetches and
   * refreshes still in flight (with their retries), so the process can exit at once. Tokens stay
   * cached in their credentials.
   */
  stop(): void {
    this.#running = false
    this.#stopping?.abort()
    this.#stopping = undefined
    for (const managed of this.#managed.values()) {
      clearTimeout(managed.timer)
      managed.timer = undefined
    }
  }

  async #prefetch(name: string): Promise<void> {
    await this.getToken(name, { abortSignal: this.#stopping?.signal })
  }

  #schedule(name: string, managed: Managed, token: AccessToken): void {
    const now = Date.now()
    const refreshAt = token.refreshAfterTimestamp ?? token.expiresOnTimestamp - 5 * 60_000
    this.#arm(name, managed, refreshAt > now ? refreshAt - now + 1 : RECHECK_MS)
  }

  #arm(name: string, managed: Managed, delayMs: number): void {
    clearTimeout(managed.timer)
    const timer = setTimeout(
      () => {
        managed.timer = undefined
        // The call starts the credential's background refresh; a success re-arms through getToken,
        // a failure is looked at again after RECHECK_MS.
        this.#prefetch(name).catch(() => {
          if (this.#running && managed.timer === undefined && this.#managed.get(name) === managed) this.#arm(name, managed, RECHECK_MS)
        })
      },
      Math.min(delayMs, MAX_TIMER_MS),
    )
    ;(timer as { unref?: () => void }).unref?.()
    managed.timer = timer
  }
}
