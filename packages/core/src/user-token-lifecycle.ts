import { type AuthenticationRecord, serializeAuthenticationRecord } from './authentication-record'
import { AzcredError, InteractionRequiredError, toInteractionRequired } from './azcred-error'
import type { ClientAuthentication } from './client-authentication'
import type { EntraCredentialOptions } from './credential-options'
import { requestTokenGrant } from './entra-token'
import { abortedError, type FetchLike, ignore } from './http'
import { isTransient } from './retry-policy'
import { allowedTenants, resolveTenant } from './tenant'
import { MAX_TOKEN_CACHE_VALUE_LENGTH, parseTokenCacheEntry, serializeTokenCacheEntry, type TokenCache, tokenCacheKey } from './token-cache'
import type { AbortSignalLike, AccessToken, GetTokenOptions } from './token-credential'
import type { TokenEvent } from './token-events'
import { lifecycleOptions, TOKEN_CACHE_TIMEOUT_MS, TokenLifecycle, type TokenLifecycleOptions, type TokenRequest } from './token-lifecycle'
import type { TokenResponse } from './token-response'
import { assertConfig, assertTenantId, normalizeScopes } from './validate'

/**
 * The OpenID Connect scopes added to every user token request (sign-in and refresh-token redemption),
 * so Entra ID returns an id token (the account), `client_info` and a refresh token.
 * @internal For azcred's own packages; not covered by semver.
 */
export const USER_SCOPES: readonly string[] = ['openid', 'profile', 'offline_access']

/**
 * Options every signed-in-user credential accepts (device code, browser, authorization code, on-behalf-of).
 * @public
 */
export interface UserCredentialOptions extends EntraCredentialOptions {
  /**
   * The account of an earlier sign-in, as `authenticate()` returned it (store it with
   * `serializeAuthenticationRecord`). With a `tokenCache` that kept its refresh token, the first
   * `getToken` after a restart is silent. A record made for another `clientId` or authority host is
   * `AZCRED_CONFIG_INVALID`.
   */
  authenticationRecord?: AuthenticationRecord
  /**
   * When true, `getToken` never starts a sign-in: where one would be needed it throws
   * `AZCRED_INTERACTION_REQUIRED`, and the application calls `authenticate()` when it suits it. Default false.
   */
  disableAutomaticAuthentication?: boolean
  /** Where access and refresh tokens are kept beyond this object (shared or persistent). Default: memory only. */
  tokenCache?: TokenCache
}

/**
 * A flow's sign-in (device code, browser, code redemption). It is called only because a caller asked
 * (never from a background refresh), once for all concurrent callers, and never retried.
 * `request.scopes` already ends with {@link USER_SCOPES}; `request.abortSignal` fires when every
 * caller waiting for the sign-in has left: stop prompting or polling then. A user who cancels is
 * reported by throwing `AZCRED_AUTHENTICATION_CANCELLED`, an `AZCRED_ABORTED` or an `AbortError`
 * (either becomes `AZCRED_AUTHENTICATION_CANCELLED`), or Entra's `authorization_declined`.
 * @internal For azcred's own packages; not covered by semver.
 */
export type InteractiveSignIn = (request: TokenRequest) => Promise<TokenResponse>

/**
 * Everything {@link UserTokenLifecycle} needs from a user credential.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface UserTokenLifecycleConfig extends TokenLifecycleOptions {
  /** Name used in events and messages, such as `DeviceCodeCredential`. */
  credentialName: string
  /** The configured tenant (a GUID, a domain, `organizations`, `common` or `consumers`). */
  tenantId: string
  /** The application (client) id. */
  clientId: string
  /** The normalised authority host, such as `https://login.microsoftonline.com` (`resolveAuthorityHost`). */
  authorityHost: string
  /** Tenants a call may switch to; `*` for any. Same rules as the engine. */
  additionallyAllowedTenants?: readonly string[] | undefined
  /** See {@link UserCredentialOptions.authenticationRecord}. */
  authenticationRecord?: AuthenticationRecord | undefined
  /** See {@link UserCredentialOptions.disableAutomaticAuthentication}. */
  disableAutomaticAuthentication?: boolean | undefined
  /** See {@link UserCredentialOptions.tokenCache}. */
  tokenCache?: TokenCache | undefined
  /** How a confidential client proves itself when redeeming a refresh token; absent for a public client. */
  clientAuthentication?: ClientAuthentication | undefined
  /** The sign-in; without it a missing or refused refresh token is `AZCRED_INTERACTION_REQUIRED`. */
  interactive?: InteractiveSignIn | undefined
  /** The `fetch` for refresh-token redemption. Default `globalThis.fetch`. */
  fetch?: FetchLike | undefined
  /** Fix hints for the Entra error codes refresh-token redemption meets, by numeric code. */
  hints?: Record<number, string> | undefined
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number
}

/**
 * Options of {@link UserTokenLifecycle.signOut}.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface SignOutOptions {
  /**
   * Also empty the whole `tokenCache` (its `scrub()`: every account and app sharing it), not only this
   * account's entries. Default false.
   */
  allAccounts?: boolean
}

/** One sign-in in flight, shared by every caller waiting for it, whatever their scopes. */
interface SignIn {
  promise: Promise<TokenResponse>
  controller: AbortController
  waiters: number
}

/** The last sign-in's answer, kept for the first caller asking for its scopes, and the account it belongs to. */
interface Handoff {
  key: string
  claims: string | undefined
  account: string | undefined
  response: TokenResponse
}

/**
 * Longest wait for a sign-in that every waiter left (its signal fired, so it should end at once) before
 * a new caller goes on without it, in milliseconds.
 */
const ABANDONED_SIGN_IN_GRACE_MS = 2_000

/** A refresh token lives 90 days in Entra ID (sliding); a cache entry of one is kept that long. */
const REFRESH_TOKEN_LIFETIME_MS = 90 * 86_400_000

// A claim fit for an AuthenticationRecord field: a non-empty string, no control or format characters, at most 256.
// Counted in code points (as deserializeAuthenticationRecord counts), so no surrogate pair is cut in half.
const text = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? Array.from(value.slice(0, 4096).replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, ''))
        .slice(0, 256)
        .join('') || undefined
    : undefined
/** The `account` field of a serialised cache entry, or undefined. */
function accountOf(value: unknown): unknown {
  try {
    // Bounded before it is parsed, as parseTokenCacheEntry bounds it.
    const text = typeof value === 'string' && value.length <= MAX_TOKEN_CACHE_VALUE_LENGTH ? value : ''
    return (JSON.parse(text) as { account?: unknown } | null)?.account
  } catch {}
}
const isInteractionRequired = (error: unknown): boolean => AzcredError.isInstance(error) && error.code === 'AZCRED_INTERACTION_REQUIRED'
const engineKey = (request: TokenRequest): string => `${[...request.scopes].sort().join(' ')}\n${request.tenantId.toLowerCase()}\n${request.enableCae}`

// Entra codes meaning the refresh token itself is dead (expired, revoked, idle, password changed), and
// codes asking for consent or multi-factor authentication, after which the refresh token still serves
// other scopes and tenants. PROTOCOL.md, "Refresh tokens and interaction".
const DEAD_REFRESH_TOKEN = [70008, 50173, 700082, 700084, 50132, 50133]
const STEP_UP = [65001, 50076, 50078, 50079, 50158]

/** True when Entra's refusal means the refresh token can never be redeemed again (not a consent or MFA step for these scopes). */
function isDead(refusal: InteractionRequiredError): boolean {
  const { errorCodes: codes, error, claims } = refusal
  return codes.some((code) => DEAD_REFRESH_TOKEN.includes(code)) || (error === 'invalid_grant' && !claims && !codes.some((code) => STEP_UP.includes(code)))
}

/** `host[:port]` of an authority host or of an `AuthenticationRecord.authority` (`login.microsoftonline.com[/tenant]`). */
function hostOf(authority: string): string {
  return `${authority.replace(/^[a-z][a-z\d+.-]*:\/\//i, '').split('/')[0]}`.toLowerCase()
}

/** Waits for `promise`; rejects with AZCRED_ABORTED as soon as `signal` fires. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (signal === undefined) return promise
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortedError())
    if (signal.aborted) onAbort()
    signal.addEventListener('abort', onAbort)
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * The lifecycle of a signed-in user's tokens, which every user credential wraps. It composes the
 * engine ({@link TokenLifecycle}: memory cache, single flight, jittered proactive refresh,
 * serve-while-valid, throttle memory, events) with two paths:
 * - *silent*: the engine's memory and `tokenCache`, then the newest refresh token redeemed for the
 *   scopes asked (`grant_type=refresh_token`, any resource the user consented to, with the client
 *   authentication of a confidential client). Entra's rotated refresh token replaces the old one in
 *   memory and in the cache. A refresh token Entra refuses ends the path with
 *   `AZCRED_INTERACTION_REQUIRED` (with Entra's `claims`); when it is expired or revoked (AADSTS70008,
 *   50173, 700082, 700084, 50132, 50133, or `invalid_grant` with no consent or MFA code) it is also
 *   forgotten, in memory and in the cache, while one refused for consent or MFA keeps serving other scopes.
 *   A background refresh runs only this path; when it needs interaction the engine's
 *   `refresh-failed` event says so and the old token is served until it expires.
 * - *interactive*: the credential's sign-in, only for a caller (`getToken` or `authenticate`), never
 *   with `disableAutomaticAuthentication`. One sign-in serves every concurrent caller (another
 *   caller's scopes are then redeemed silently), is never retried automatically, and is aborted when
 *   its last waiter aborts.
 *
 * After a sign-in the account is known: {@link authenticationRecord}, and the key of its entries in
 * the `tokenCache` (authority, client, home account id). Refresh and id tokens are kept in private
 * fields only: never in a message, event or `util.inspect` output.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a bad option, or an
 * `authenticationRecord` made for another `clientId` or authority host.
 * @internal For azcred's own packages; not covered by semver.
 */
export class UserTokenLifecycle {
  readonly #config: UserTokenLifecycleConfig
  readonly #engine: TokenLifecycle
  readonly #allowedTenants: string[]
  /** Errors of a sign-in: never retried by the engine. */
  readonly #final = new WeakSet<object>()
  #record: AuthenticationRecord | undefined
  #refreshToken: string | undefined
  #signIn: SignIn | undefined
  /** The access token of the last sign-in, handed once to the first caller that asks for its scopes. */
  #handoff: Handoff | undefined
  /** Refresh-token redemptions run one at a time, each with the newest refresh token. */
  #redemptions: Promise<void> = Promise.resolve()
  /** Incremented by signOut(): a request, redemption or sign-in started before keeps nothing it gets. */
  #generation = 0
  /** The `tokenCache` keys of access tokens read or written (not secret), removed by signOut(). */
  readonly #keys = new Set<string>()

  constructor(config: UserTokenLifecycleConfig) {
    assertConfig(typeof config === 'object' && config !== null, 'config must be an object')
    const { clientId, authorityHost, interactive, authenticationRecord: record, tokenCache } = config
    assertTenantId(config.tenantId)
    assertConfig(typeof clientId === 'string' && clientId.trim() !== '', 'clientId is empty: pass the application (client) id')
    assertConfig(typeof authorityHost === 'string' && /^https?:\/\/[^/]+$/.test(authorityHost), 'authorityHost must be a normalised URL (resolveAuthorityHost)')
    assertConfig(interactive === undefined || typeof interactive === 'function', 'interactive must be a function')
    assertConfig(
      tokenCache === undefined || ['read', 'write', 'remove'].every((name) => typeof (tokenCache as unknown as Record<string, unknown>)[name] === 'function'),
      'tokenCache must implement read, write and remove',
    )
    const { disableAutomaticAuthentication: disable } = config
    assertConfig(disable === undefined || typeof disable === 'boolean', 'disableAutomaticAuthentication must be a boolean')
    if (record !== undefined) {
      const fields = ['authority', 'homeAccountId', 'clientId', 'tenantId', 'username'] as const
      assertConfig(
        typeof record === 'object' && record !== null && fields.every((name) => typeof record[name] === 'string') && record.homeAccountId !== '',
        'authenticationRecord must be an AuthenticationRecord (deserializeAuthenticationRecord reads a stored one)',
      )
      assertConfig(
        record.clientId.toLowerCase() === clientId.toLowerCase(),
        'authenticationRecord was made for another clientId: sign in again with authenticate() or pass the clientId it was made for',
      )
      assertConfig(
        hostOf(record.authority) === hostOf(authorityHost),
        'authenticationRecord was made for another authority host: sign in again with authenticate() or pass the authorityHost it was made for',
      )
      const copy = Object.fromEntries(fields.map((name) => [name, record[name]])) as unknown as AuthenticationRecord
      // The field rules of a stored record (AZCRED_CONFIG_INVALID naming the field): a homeAccountId is
      // `uid.utid`, so no record can name another kind of partition (such as `obo:<hash>`) in the tokenCache.
      serializeAuthenticationRecord(copy)
      this.#record = Object.freeze(copy)
    }
    // A copy: a caller changing its options object later changes nothing here.
    this.#config = { ...config }
    this.#allowedTenants = allowedTenants(config.additionallyAllowedTenants)
    // The engine's access-token entries are the signed-in account's: before a sign-in there is none to
    // read or write (an app-only entry of the same client must never be served to a user), and an entry
    // read or written is the current account's (its `account` field), so a token fetched for one user
    // before another signed in is never stored under the new one.
    const shared = tokenCache
    const current = (value: unknown): boolean => this.#record !== undefined && accountOf(value) === this.#record.homeAccountId
    const accountCache: TokenCache | undefined = shared && {
      read: async (key) => {
        if (this.#record === undefined) return undefined
        this.#keys.add(key)
        const value = await shared.read(key)
        return current(value) ? value : undefined
      },
      write: async (key, value, expiresOnTimestamp) => {
        if (!current(value)) return
        this.#keys.add(key)
        await shared.write(key, value, expiresOnTimestamp)
      },
      remove: (key) => shared.remove(key),
      scrub: () => shared.scrub(),
    }
    this.#engine = new TokenLifecycle({
      ...lifecycleOptions(config),
      tokenCache: accountCache,
      cachePartition: () => ({ authority: authorityHost, clientId, account: this.#record?.homeAccountId ?? '' }),
      credentialName: config.credentialName,
      tenantId: config.tenantId,
      additionallyAllowedTenants: config.additionallyAllowedTenants,
      random: config.random,
      // The engine keeps the access token and the account it was fetched for; the refresh token stays in its own entry.
      // A request that ends after signOut() gives its caller the sign-out, and the engine nothing to keep.
      fetchToken: (request) => {
        const generation = this.#generation
        return this.#fetchToken(request).then(
          ({ accessToken, homeAccountId }) => {
            if (generation !== this.#generation) throw this.#signedOut()
            return { accessToken, homeAccountId }
          },
          (error: unknown) => {
            throw generation !== this.#generation ? this.#signedOut() : error
          },
        )
      },
      // A sign-in is never restarted by a retry.
      isRetryable: (error) => !this.#final.has(error as object) && isTransient(error),
    })
  }

  /**
   * Returns a valid access token for the scopes: from memory or the `tokenCache`, else by redeeming
   * the refresh token, else (only when a sign-in is configured and automatic authentication is not
   * disabled) by signing the user in. Never throws synchronously.
   * @throws AzcredError AZCRED_INTERACTION_REQUIRED when a sign-in is needed and may not run here
   * (`claims` holds Entra's challenge when it sent one), AZCRED_AUTHENTICATION_CANCELLED when the user
   * cancelled the sign-in, any code of the engine ({@link TokenLifecycle.getToken}) or the token endpoint.
   */
  getToken(scopes: string | readonly string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.#engine.getToken(scopes, options)
  }

  /**
   * Signs the user in (joining a sign-in already running), even when a token is cached, and returns
   * the account. Its access token is served to the next `getToken` for the same scopes.
   * `disableAutomaticAuthentication` does not apply here.
   * @throws AzcredError AZCRED_CONFIG_INVALID for bad scopes or options or a credential without a
   * sign-in, AZCRED_ABORTED when `options.abortSignal` fires (the sign-in is aborted when no other
   * caller waits for it), AZCRED_AUTHENTICATION_CANCELLED, AZCRED_RESPONSE_INVALID when the answer
   * names no account (no `client_info` or id token), or the sign-in's own error.
   */
  async authenticate(scopes: string | readonly string[], options: GetTokenOptions = {}): Promise<AuthenticationRecord> {
    assertConfig(this.#config.interactive !== undefined, `${this.#config.credentialName} has no interactive sign-in: authenticate() is not available`)
    let request: TokenRequest
    let signal: AbortSignalLike | undefined
    try {
      assertConfig(typeof options === 'object' && options !== null, 'authenticate options must be an object')
      const { claims, abortSignal, tenantId, enableCae } = options
      assertConfig(claims == null || typeof claims === 'string', 'authenticate options.claims must be a string')
      assertConfig(
        abortSignal == null || (typeof abortSignal.addEventListener === 'function' && typeof abortSignal.removeEventListener === 'function'),
        'authenticate options.abortSignal must be an AbortSignal',
      )
      signal = abortSignal ?? undefined
      request = {
        scopes: normalizeScopes(scopes),
        tenantId: resolveTenant(this.#config.tenantId, tenantId, this.#allowedTenants),
        claims: claims?.trim() ? claims : undefined,
        enableCae: enableCae === true,
        background: false,
      }
      if (signal?.aborted) throw abortedError()
    } catch (error) {
      // A getter or Proxy that threw: its own error could quote anything, so it is not passed on.
      throw AzcredError.isInstance(error)
        ? error
        : new AzcredError('AZCRED_CONFIG_INVALID', 'authenticate: reading the scopes or options threw: pass strings and a plain object')
    }
    const generation = this.#generation
    try {
      await this.#signInWait(signal, request)
    } catch (error) {
      throw generation !== this.#generation ? this.#signedOut() : error
    }
    if (generation !== this.#generation) throw this.#signedOut()
    const record = this.#record
    if (record === undefined) {
      throw new AzcredError('AZCRED_RESPONSE_INVALID', `${this.#config.credentialName}: the sign-in answer named no account (no client_info or id token)`)
    }
    return record
  }

  /** The signed-in account: from the `authenticationRecord` option, then from the last sign-in; undefined before any. */
  get authenticationRecord(): AuthenticationRecord | undefined {
    return this.#record
  }

  /**
   * Signs the account out, in memory and in the `tokenCache`: forgets the access tokens held in memory,
   * the refresh token, the account ({@link authenticationRecord} becomes undefined) and the last
   * sign-in's token, aborts a sign-in in flight, and removes this account's entries from the
   * `tokenCache`. A cache whose `scrub` takes an account (`scrub({ account: homeAccountId })`, as
   * `FileTokenCache` does: detected by a declared parameter or `loadAuthenticationRecord`) removes every
   * entry of the account, tokens and saved record; on any cache, the refresh-token and account entries
   * and the access-token entries this object read or wrote are removed by their `tokenCacheKey`. With
   * `allAccounts`, the whole cache is scrubbed (`scrub()`). A request, redemption or sign-in started
   * before keeps nothing it gets (not in memory, not in the cache) and ends with
   * `AZCRED_INTERACTION_REQUIRED`. Afterwards `getToken` needs a new sign-in (with
   * `disableAutomaticAuthentication`, `AZCRED_INTERACTION_REQUIRED`). Issue 13 item 4 (AzSessions' `scrub!`).
   * @throws AzcredError AZCRED_CONFIG_INVALID for a bad option; the `tokenCache`'s own error when it
   * fails to remove an entry (memory is cleared first: call again, or scrub the cache).
   */
  async signOut(options: SignOutOptions = {}): Promise<void> {
    assertConfig(typeof options === 'object' && options !== null, 'signOut options must be an object')
    const { allAccounts } = options
    assertConfig(allAccounts === undefined || typeof allAccounts === 'boolean', 'signOut options.allAccounts must be a boolean')
    const record = this.#record
    const refreshTokenKey = this.#refreshTokenKey()
    const keys = [...this.#keys]
    this.#generation += 1
    this.#engine.clear()
    this.#refreshToken = undefined
    this.#record = undefined
    this.#handoff = undefined
    this.#keys.clear()
    // Its waiters leave with the sign-out; a new caller starts a new sign-in at once.
    this.#signIn?.controller.abort()
    this.#signIn = undefined
    const cache = this.#config.tokenCache
    if (cache === undefined) return
    const scrub = cache.scrub as ((options?: { account?: string }) => Promise<void>) | undefined
    if (allAccounts) {
      assertConfig(typeof scrub === 'function', 'signOut options.allAccounts needs a tokenCache with scrub()')
      return scrub.call(cache)
    }
    if (record === undefined) return
    const account = record.homeAccountId
    if (typeof scrub === 'function' && (scrub.length > 0 || typeof (cache as { loadAuthenticationRecord?: unknown }).loadAuthenticationRecord === 'function')) {
      await scrub.call(cache, { account })
    }
    const { authority, clientId, tenantId } = record
    const accountKey = tokenCacheKey({ kind: 'account', authority, clientId: clientId.toLowerCase(), account, tenantId, scopes: '', cae: false })
    // Only this account's access-token keys (its homeAccountId is field 3 of a key): another user signed in earlier keeps theirs.
    const own = keys.filter((key) => (JSON.parse(key) as unknown[])[3] === account)
    await Promise.all([refreshTokenKey, accountKey, ...own].map((key) => key && cache.remove(key)))
  }

  /** What a request, redemption or sign-in that signOut() overtook ends with. */
  #signedOut(): InteractionRequiredError {
    return new InteractionRequiredError(`${this.#config.credentialName}: signOut() ran while this request was in flight: sign in again`)
  }

  async #fetchToken(request: TokenRequest): Promise<TokenResponse> {
    const { background } = request
    if (!background) {
      // A sign-in every earlier waiter left ends soon (its signal fired): it is waited out, so that its
      // token is not lost if it completed anyway. One in progress is joined only when the silent path
      // cannot serve these scopes: a prompt for one caller never holds up another.
      const running = this.#signIn
      if (running?.controller.signal.aborted) await this.#waitOut(running, request.abortSignal)
      const handed = this.#takeHandoff(request)
      if (handed !== undefined) return handed
    }
    let refused: unknown
    try {
      const response = await this.#silent(request)
      if (response !== undefined) return response
    } catch (error) {
      if (!isInteractionRequired(error)) throw error
      refused = error
    }
    // Starting a sign-in needs a caller, a sign-in and automatic authentication; joining one in flight
    // (such as authenticate()'s with disableAutomaticAuthentication) only a caller.
    const mayStart = !background && this.#config.interactive !== undefined && this.#config.disableAutomaticAuthentication !== true
    if (background || !(mayStart || this.#signIn !== undefined)) throw this.#cannotSignIn(refused, background)
    return this.#signInFor(request, refused, mayStart, true)
  }

  /** The error of a silent path that ended where no sign-in may start: Entra's refusal, else why. */
  #cannotSignIn(refused: unknown, background: boolean): unknown {
    const { interactive, credentialName } = this.#config
    return (
      refused ??
      new InteractionRequiredError(
        background
          ? `${credentialName}: the background refresh has no refresh token to redeem; the user must sign in again (call getToken or authenticate)`
          : interactive === undefined
            ? `${credentialName}: no refresh token for this account: the user must sign in again`
            : `${credentialName}: a sign-in is needed and disableAutomaticAuthentication is set: call authenticate()`,
      )
    )
  }

  /**
   * Joins the sign-in in flight or (`mayStart`) starts one with Entra's claims challenge from `refused`,
   * then takes its token or redeems its refresh token for `request`. A caller that joined another
   * caller's sign-in and whose redemption needs interaction (consent or MFA for its own scopes) signs
   * in once more (`mayRepeat`), when it may start one.
   */
  async #signInFor(request: TokenRequest, refused: unknown, mayStart: boolean, mayRepeat: boolean): Promise<TokenResponse> {
    // Nobody waits any more: no sign-in is started for nobody.
    if (request.abortSignal?.aborted) throw abortedError()
    // Entra's claims challenge (MFA, consent) from the refused refresh token goes to the sign-in.
    const claims = request.claims ?? (refused as { claims?: string } | undefined)?.claims
    const joined = await this.#signInWait(request.abortSignal, mayStart ? { ...request, claims } : undefined)
    if (joined === undefined) throw this.#cannotSignIn(refused, false)
    let response = this.#takeHandoff(request)
    try {
      response ??= await this.#silent(request)
    } catch (error) {
      if (!(mayStart && mayRepeat && joined && isInteractionRequired(error))) throw error
      return this.#signInFor(request, error, true, false)
    }
    if (response !== undefined) return response
    throw new InteractionRequiredError(
      `${this.#config.credentialName}: the sign-in returned no refresh token for these scopes: sign in again for them with authenticate()`,
    )
  }

  /**
   * Waits for the sign-in in flight (joining it) or one started for `start`. A sign-in that every
   * earlier waiter left is waited out, never run beside a new one; when it ended aborted, one is
   * started. Resolves true when this caller joined a sign-in another caller started, false when it
   * started one, undefined when there was none to join and `start` is undefined (it may not start one).
   */
  async #signInWait(signal: AbortSignalLike | undefined, start: TokenRequest | undefined): Promise<boolean | undefined> {
    const generation = this.#generation
    for (let round = 1; ; round += 1) {
      // A sign-in that signOut() aborted is not followed by a new one for a caller from before it.
      if (generation !== this.#generation) throw this.#signedOut()
      const running = this.#signIn
      if (running === undefined || round > 3) {
        if (running === undefined && start === undefined) return undefined
        await this.#waitFor(running ?? this.#startSignIn(start as TokenRequest), signal)
        return running !== undefined
      }
      if (await this.#waitOut(running, signal)) return true
    }
  }

  /**
   * Waits for a sign-in: true when it succeeded, false when it ended aborted because every earlier
   * waiter left (not this caller), or when such a sign-in did not end within
   * {@link ABANDONED_SIGN_IN_GRACE_MS}; its other errors, and AZCRED_ABORTED when `signal` fires, reject.
   */
  async #waitOut(signIn: SignIn, signal: AbortSignalLike | undefined): Promise<boolean> {
    const abandoned = signIn.controller.signal.aborted
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const ended = this.#waitFor(signIn, signal).then(
        () => true,
        (error: unknown) => {
          if (signal?.aborted || !signIn.controller.signal.aborted) throw error
          return false
        },
      )
      if (!abandoned) return await ended
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ABANDONED_SIGN_IN_GRACE_MS)
      })
      const outcome = await Promise.race([ended, late])
      if (outcome !== undefined) return outcome
      // It ignores its signal: it is no longer the sign-in in flight.
      if (this.#signIn === signIn) this.#signIn = undefined
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  #startSignIn(request: TokenRequest): SignIn {
    const controller = new AbortController()
    const generation = this.#generation
    const interactive = this.#config.interactive as InteractiveSignIn
    const signInRequest: TokenRequest = {
      scopes: [...request.scopes, ...USER_SCOPES.filter((scope) => !request.scopes.includes(scope))],
      tenantId: request.tenantId,
      claims: request.claims,
      enableCae: request.enableCae,
      background: false,
      abortSignal: controller.signal,
    }
    const signIn: SignIn = {
      controller,
      waiters: 0,
      promise: Promise.resolve()
        .then(() => {
          // Every waiter left before it started.
          if (controller.signal.aborted) throw abortedError()
          return interactive(signInRequest)
        })
        .then((response) => {
          const token = (response as Partial<TokenResponse> | undefined)?.accessToken
          if (typeof token?.token !== 'string' || typeof token.expiresOnTimestamp !== 'number') {
            throw new AzcredError('AZCRED_RESPONSE_INVALID', `${this.#config.credentialName}: the sign-in answered no access token`)
          }
          return response
        })
        .then(
          async (response) => {
            if (generation !== this.#generation) throw this.#signedOut()
            await this.#accept(response, request, true)
            this.#handoff = { key: engineKey(request), claims: request.claims, account: response.homeAccountId, response }
            return response
          },
          (error: unknown) => {
            throw this.#signInError(error, controller.signal)
          },
        ),
    }
    this.#signIn = signIn
    const done = (): void => {
      if (this.#signIn === signIn) this.#signIn = undefined
    }
    signIn.promise.then(done, done)
    return signIn
  }

  /** What a failed sign-in becomes: never retried, and a cancellation reported as one. */
  #signInError(error: unknown, signal: AbortSignal): unknown {
    const { code, name, error: oauthError } = (error ?? {}) as { code?: string; name?: string; error?: string }
    let result = error
    if (signal.aborted) result = abortedError()
    else if (name === 'AbortError' || code === 'AZCRED_ABORTED' || oauthError === 'authorization_declined') {
      result = new AzcredError(
        'AZCRED_AUTHENTICATION_CANCELLED',
        `${this.#config.credentialName}: the sign-in was cancelled or declined: sign in again to get a token`,
      )
    }
    if (typeof result === 'object' && result !== null) this.#final.add(result)
    return result
  }

  /** Waits for a sign-in; a waiter whose signal fires leaves with AZCRED_ABORTED, and the last one to leave aborts the sign-in. */
  #waitFor(signIn: SignIn, signal: AbortSignalLike | undefined): Promise<TokenResponse> {
    signIn.waiters += 1
    if (signal === undefined) return signIn.promise
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        signal.removeEventListener('abort', onAbort)
        reject(abortedError())
        // The sign-in stays in flight until it ends (it should end at once): the next caller waits it out.
        if (--signIn.waiters === 0) signIn.controller.abort()
      }
      // Already aborted: it leaves at once (and a sign-in nobody else waits for ends).
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort)
      signIn.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** The last sign-in's token, once, for a caller asking for its scopes, tenant and CAE state while it is fresh. */
  #takeHandoff(request: TokenRequest): TokenResponse | undefined {
    const handoff = this.#handoff
    if (
      handoff === undefined ||
      handoff.account !== this.#record?.homeAccountId ||
      handoff.key !== engineKey(request) ||
      (request.claims !== undefined && request.claims !== handoff.claims)
    ) {
      return undefined
    }
    this.#handoff = undefined
    const skew = this.#config.refresh?.clockSkewMs ?? 30_000
    return handoff.response.accessToken.expiresOnTimestamp - Date.now() > 2 * skew ? handoff.response : undefined
  }

  /**
   * The silent path's network part: redeem the newest refresh token; undefined when there is none.
   * Redemptions run one at a time: a caller that leaves the queue early (aborted) frees its place only
   * when the redemption before it has ended, so one refresh token is never presented twice at once.
   */
  #silent(request: TokenRequest): Promise<TokenResponse | undefined> {
    const previous = this.#redemptions
    const run = unlessAborted(previous, request.abortSignal).then(() => this.#redeem(request))
    this.#redemptions = run.then(ignore, ignore).then(() => previous)
    return run
  }

  async #redeem(request: TokenRequest): Promise<TokenResponse | undefined> {
    const config = this.#config
    // The account whose refresh token is presented: the answer must be its, and is kept only while it is signed in.
    const account = this.#record?.homeAccountId
    const generation = this.#generation
    const started = this.#refreshToken
    let refreshToken = started ?? (await this.#cachedRefreshToken(request))
    for (let attempt = 1; refreshToken !== undefined; attempt += 1) {
      try {
        const response = await requestTokenGrant({
          authorityHost: config.authorityHost,
          clientId: config.clientId,
          request: { ...request, scopes: [...request.scopes, ...USER_SCOPES.filter((scope) => !request.scopes.includes(scope))] },
          grant: { grant_type: 'refresh_token', refresh_token: refreshToken, client_info: '1' },
          clientAuthentication: config.clientAuthentication,
          hints: config.hints,
          fetch: config.fetch,
          timeoutMs: config.timeoutMs,
          abortSignal: request.abortSignal,
        })
        if (response.homeAccountId !== undefined && account !== undefined && response.homeAccountId !== account) {
          throw new AzcredError(
            'AZCRED_RESPONSE_INVALID',
            `${config.credentialName}: the token endpoint answered a refresh token redemption for another account`,
          )
        }
        // Another user signed in meanwhile: the answer serves its caller, and nothing of it is kept.
        // A sign-in that ended meanwhile holds a newer refresh token (perhaps with MFA), which is kept.
        const held = this.#refreshToken
        const replace = held === undefined || held === started || held === refreshToken
        if (generation !== this.#generation) throw this.#signedOut()
        if (this.#record?.homeAccountId === account) await this.#accept(response, request, false, replace)
        return { ...response, homeAccountId: account ?? this.#record?.homeAccountId }
      } catch (error) {
        const refused = toInteractionRequired(error)
        if (!isInteractionRequired(refused)) throw error
        // A dead refresh token is forgotten (each one refused); one refused for a consent or MFA step
        // still serves other scopes. Another credential sharing the cache may have rotated it: its newest is tried once.
        if (isDead(refused as InteractionRequiredError)) await this.#forgetRefreshToken(request, refreshToken)
        const newest = attempt === 1 ? await this.#cachedRefreshToken(request) : undefined
        if (newest !== undefined && newest !== refreshToken) {
          refreshToken = newest
          continue
        }
        throw refused
      }
    }
    return undefined
  }

  /**
   * Takes in a token answer: the account (after a sign-in, or when none is known yet) and the newest
   * refresh token (a redemption's only when `replace`: no sign-in gave a newer one meanwhile).
   */
  async #accept(response: TokenResponse, request: TokenRequest, signedIn: boolean, replace = signedIn): Promise<void> {
    const previous = this.#record
    const homeAccountId = response.homeAccountId
    if (signedIn && previous !== undefined && previous.homeAccountId !== homeAccountId) {
      // Another user signed in (or one Entra did not name): nothing kept for the previous one is served any more.
      this.#engine.clear()
      this.#refreshToken = undefined
      this.#record = undefined
      this.#handoff = undefined
    }
    if (homeAccountId !== undefined && (signedIn || previous === undefined)) {
      const claims = response.idTokenClaims ?? {}
      // An id is used as it came or not at all (never "cleaned" into another id): else the home tenant.
      const { tid } = claims
      this.#record = Object.freeze({
        authority: hostOf(this.#config.authorityHost),
        homeAccountId,
        clientId: this.#config.clientId,
        tenantId: typeof tid === 'string' && /^[\w.-]{1,256}$/.test(tid) ? tid : (homeAccountId.split('.')[1] as string),
        username:
          text(claims.preferred_username) ?? text(claims.upn) ?? text(claims.email) ?? (previous?.homeAccountId === homeAccountId ? previous.username : ''),
      })
    }
    const { refreshToken } = response
    if (typeof refreshToken === 'string' && refreshToken !== '' && replace) {
      this.#refreshToken = refreshToken
      const key = this.#refreshTokenKey()
      const account = this.#record?.homeAccountId
      if (key !== undefined) {
        const value = serializeTokenCacheEntry({ refreshToken, account })
        await this.#cacheCall(request, 'write', (cache) => cache.write(key, value, Date.now() + REFRESH_TOKEN_LIFETIME_MS))
      }
    }
  }

  #refreshTokenKey(): string | undefined {
    const account = this.#record?.homeAccountId
    if (account === undefined || this.#config.tokenCache === undefined) return undefined
    return tokenCacheKey({
      kind: 'refresh_token',
      authority: this.#config.authorityHost,
      clientId: this.#config.clientId,
      account,
      tenantId: '',
      scopes: '',
      cae: false,
    })
  }

  async #cachedRefreshToken(request: TokenRequest): Promise<string | undefined> {
    const key = this.#refreshTokenKey()
    const value = key === undefined ? undefined : await this.#cacheCall(request, 'read', (cache) => cache.read(key))
    const entry = parseTokenCacheEntry(value)
    return entry?.account === this.#record?.homeAccountId ? entry?.refreshToken : undefined
  }

  /** Forgets a refresh token Entra refused, in memory and in the cache (unless a newer one replaced it there). */
  async #forgetRefreshToken(request: TokenRequest, dead: string): Promise<void> {
    if (this.#refreshToken === dead) this.#refreshToken = undefined
    const key = this.#refreshTokenKey()
    if (key !== undefined && (await this.#cachedRefreshToken(request)) === dead) await this.#cacheCall(request, 'write', (cache) => cache.remove(key))
  }

  /**
   * A `tokenCache` call that never fails or holds up a token request: an error or a call slower than
   * `TOKEN_CACHE_TIMEOUT_MS` counts as a miss, and is a `cache-error` event (no text of the error).
   */
  async #cacheCall<T>(request: TokenRequest, operation: 'read' | 'write', call: (cache: TokenCache) => Promise<T>): Promise<T | undefined> {
    const cache = this.#config.tokenCache as TokenCache
    const timeout = {}
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await Promise.race([
        Promise.resolve().then(() => call(cache)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(reject, TOKEN_CACHE_TIMEOUT_MS, timeout)
        }),
      ])
    } catch (error) {
      const event: TokenEvent = {
        type: 'cache-error',
        credential: this.#config.credentialName,
        scopes: request.scopes,
        tenantId: request.tenantId,
        at: Date.now(),
        operation,
        reason: error === timeout ? 'timeout' : 'failed',
      }
      try {
        this.#config.onEvent?.(event)
      } catch {}
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }
}
