import { AzcredError, systemErrorCode } from './azcred-error'
import { serverText, throwIfAborted } from './http'
import type { AccessToken, GetTokenOptions, TokenCredential } from './token-credential'

/**
 * A lazily loaded source of a {@link ChainedTokenCredential}: called only when the chain reaches it,
 * at most once at a time. It may return the credential, a promise of it, or a promise of a module
 * whose `default` export is the credential (`() => import('./my-credential')`). Throwing (or
 * rejecting with) `AZCRED_SOURCE_UNAVAILABLE` means "this source does not exist here".
 * @public
 */
export type TokenCredentialFactory = () => TokenCredential | Promise<TokenCredential | { default: TokenCredential }>

/**
 * One entry of a {@link ChainedTokenCredential}: a credential, or a factory that makes it when reached.
 * @public
 */
export type ChainedTokenCredentialSource = TokenCredential | TokenCredentialFactory

/** Longest reason line kept per source, in characters. */
const MAX_REASON_LENGTH = 300
/** Most lines kept from one source's reason (a nested chain has one per source). */
const MAX_REASON_LINES = 40
const EXHAUSTED = 'every source of the chain is unavailable (one line per source):'
const LOST = "the chain's remembered source is no longer available (the chain keeps using it):"

/**
 * Tries its sources in order and returns the first token. Moves on to the next source only when one
 * is unavailable (`AZCRED_SOURCE_UNAVAILABLE`, or an `@azure/identity` error named
 * `CredentialUnavailableError`, which is how `@azure/identity`'s own chain recognises it); any other
 * error stops the chain and is rethrown as is (bad configuration or a refused request must surface,
 * not be hidden by a weaker source further down).
 *
 * - **Lazy sources**: a factory (`() => new X()` or `() => import('./x')`) runs only when the chain
 *   reaches it; concurrent calls share one load; a loaded credential is kept. A factory that throws
 *   `AZCRED_SOURCE_UNAVAILABLE` counts as an unavailable source (and runs again on a later call); one
 *   that throws anything else stops the chain with `AZCRED_CONFIG_INVALID`, naming the error's class
 *   or system code but never its message (which could quote a secret).
 * - **Remembered source**: once a source returned a token, every later call goes straight to it, as
 *   .NET's `DefaultAzureCredential` does: the identity a process uses does not switch silently (say
 *   from a managed identity to a developer's sign-in) because one call met a hiccup. If that source
 *   later reports itself unavailable, the chain throws `AZCRED_SOURCE_UNAVAILABLE` with that one
 *   source's line; it does not fall back to the others.
 * - **All unavailable**: one `AZCRED_SOURCE_UNAVAILABLE` whose message has a header line and then one
 *   line per source, `<credential name>: <its reason>` (the name is the source's own `name` string,
 *   else its class name, else `source <n>`; reasons are stripped of control characters and capped at
 *   300 characters). Such a chain is itself unavailable, so chains nest: a nested chain's lines are
 *   indented under its own. The error is named `CredentialUnavailableError`, so `@azure/identity`'s
 *   `ChainedTokenCredential` skips this chain too.
 * - `options` (abortSignal, tenantId, claims, enableCae, …) reach each source unchanged; a fired
 *   `abortSignal` ends the chain with `AZCRED_ABORTED` before the next source is tried.
 *
 * Unlike `@azure/identity`'s chain, an `AZCRED_INTERACTION_REQUIRED` (its `AuthenticationRequiredError`)
 * stops the chain: a user credential that needs a sign-in says so rather than being hidden. An exhausted
 * `@azure/identity` chain inside this one (its `AggregateAuthenticationError`) stops it too, as it stops
 * `@azure/identity`'s own chain.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor when there is no source or a source is
 * neither a credential nor a function; from `getToken` when a factory fails or yields no credential.
 * @throws AzcredError AZCRED_SOURCE_UNAVAILABLE when every source is unavailable (or the remembered one became so).
 * @throws AzcredError AZCRED_ABORTED when `options.abortSignal` fired between sources.
 * @example
 * const credential = new ChainedTokenCredential(
 *   () => import('@azcred/workload-identity').then((m) => new m.WorkloadIdentityCredential()),
 *   () => import('@azcred/managed-identity').then((m) => new m.ManagedIdentityCredential()),
 * )
 * const token = await credential.getToken('https://management.azure.com/.default')
 * @public
 */
export class ChainedTokenCredential implements TokenCredential {
  readonly #sources: ChainedTokenCredentialSource[]
  readonly #loaded: Array<Promise<TokenCredential> | TokenCredential | undefined>
  #selected: number | undefined

  /**
   * @param sources Credentials or factories, tried in this order (at least one).
   * @throws AzcredError AZCRED_CONFIG_INVALID for no source, or one that is neither a credential nor a function.
   */
  constructor(...sources: ChainedTokenCredentialSource[]) {
    if (sources.length === 0) {
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'ChainedTokenCredential needs at least one source (a credential or a factory)')
    }
    sources.forEach((source, index) => {
      if (typeof source !== 'function' && !isCredential(source)) {
        throw new AzcredError(
          'AZCRED_CONFIG_INVALID',
          `ChainedTokenCredential source ${index + 1} is neither a TokenCredential (with getToken) nor a function returning one`,
        )
      }
    })
    this.#sources = sources
    this.#loaded = sources.map((source) => (typeof source === 'function' ? undefined : source))
  }

  /**
   * The first token a source gives, trying the remembered source first (see the class summary).
   * @throws AzcredError AZCRED_SOURCE_UNAVAILABLE, AZCRED_CONFIG_INVALID, AZCRED_ABORTED, or a source's own error as is.
   */
  async getToken(scopes: string | string[], options?: GetTokenOptions | null): Promise<AccessToken> {
    // `null` (allowed by some callers' types) counts as no options.
    options ??= {}
    const selected = this.#selected
    if (selected !== undefined) {
      const outcome = await this.#attempt(selected, scopes, options)
      if ('token' in outcome) return outcome.token
      throw unavailable(LOST, [outcome.line])
    }
    const lines: string[] = []
    for (let index = 0; index < this.#sources.length; index++) {
      throwIfAborted(options.abortSignal)
      const outcome = await this.#attempt(index, scopes, options)
      if ('token' in outcome) {
        this.#selected ??= index
        return outcome.token
      }
      lines.push(outcome.line)
    }
    throw unavailable(EXHAUSTED, lines)
  }

  /** One source: its token, or the line saying why it is unavailable; any other error propagates. */
  async #attempt(index: number, scopes: string | string[], options: GetTokenOptions): Promise<{ token: AccessToken } | { line: string }> {
    let credential: TokenCredential
    try {
      credential = await this.#load(index)
    } catch (error) {
      if (isUnavailable(error)) return { line: describe(nameOfFactory(this.#sources[index], index), error) }
      throw error
    }
    let token: AccessToken | null
    try {
      token = await credential.getToken(scopes, options)
    } catch (error) {
      if (isUnavailable(error)) return { line: describe(nameOf(credential, index), error) }
      throw error
    }
    if (token === null || token === undefined) return { line: `${nameOf(credential, index)}: returned no token` }
    return { token }
  }

  /** The credential of a source, running its factory once (concurrent calls share the load; a failed load is forgotten). */
  #load(index: number): Promise<TokenCredential> | TokenCredential {
    const loaded = this.#loaded[index]
    if (loaded !== undefined) return loaded
    const factory = this.#sources[index] as TokenCredentialFactory
    const loading = runFactory(factory, index).then(
      (credential) => {
        this.#loaded[index] = credential
        return credential
      },
      (error: unknown) => {
        this.#loaded[index] = undefined
        throw error
      },
    )
    this.#loaded[index] = loading
    return loading
  }
}

async function runFactory(factory: TokenCredentialFactory, index: number): Promise<TokenCredential> {
  let result: unknown
  try {
    result = await factory()
  } catch (error) {
    if (isUnavailable(error)) throw error
    const kind = systemErrorCode(error) ?? serverText((error as { name?: unknown } | null | undefined)?.name, 60) ?? typeof error
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `ChainedTokenCredential source ${index + 1}: its factory failed (${kind}); check that the module loads and the credential's options`,
    )
  }
  if (isCredential(result)) return result
  const fromModule = (result as { default?: unknown } | null | undefined)?.default
  if (isCredential(fromModule)) return fromModule
  throw new AzcredError(
    'AZCRED_CONFIG_INVALID',
    `ChainedTokenCredential source ${index + 1}: its factory gave neither a TokenCredential nor a module whose default export is one`,
  )
}

function isCredential(value: unknown): value is TokenCredential {
  return typeof (value as { getToken?: unknown } | null | undefined)?.getToken === 'function'
}

/**
 * The chain rule: `AZCRED_SOURCE_UNAVAILABLE` (also from another installed copy of azcred), or an error
 * named `CredentialUnavailableError` (what `@azure/identity` throws and its chain checks, by name).
 */
function isUnavailable(error: unknown): boolean {
  if (AzcredError.isInstance(error)) return error.code === 'AZCRED_SOURCE_UNAVAILABLE'
  return (error as { name?: unknown } | null | undefined)?.name === 'CredentialUnavailableError'
}

function nameOf(credential: TokenCredential, index: number): string {
  const own = (credential as { name?: unknown }).name
  const className = (credential as object).constructor?.name
  const name = typeof own === 'string' && own ? own : className && className !== 'Object' ? className : ''
  return serverText(name, 80) || `source ${index + 1}`
}

function nameOfFactory(factory: ChainedTokenCredentialSource | undefined, index: number): string {
  const name = typeof factory === 'function' ? serverText(factory.name, 80) : undefined
  return name ? `source ${index + 1} (${name})` : `source ${index + 1}`
}

/** `<name>: <first line of the reason>`, then the reason's further lines indented (a nested chain's sources). */
function describe(name: string, error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message
  const [first = '', ...rest] = (typeof message === 'string' ? message : '').split(/\r\n|\r|\n/).slice(0, MAX_REASON_LINES)
  const head = `${name}: ${serverText(first, MAX_REASON_LENGTH) || 'unavailable'}`
  return [head, ...rest.map((line) => `  ${serverText(line, MAX_REASON_LENGTH)}`)].join('\n')
}

function unavailable(header: string, lines: string[]): AzcredError {
  return new AzcredError('AZCRED_SOURCE_UNAVAILABLE', `${header}\n${lines.join('\n')}`)
}
