import {
  type AccessToken,
  type AuthenticationRecord,
  AzcredError,
  assertConfig,
  type GetTokenOptions,
  lifecycleOptions,
  requestTokenGrant,
  resolveAuthorityHost,
  type TokenCredential,
  type TokenRequest,
  type TokenResponse,
  type UserCredentialOptions,
  UserTokenLifecycle,
} from '@azcred/core'
import { resolveTokenCache, type TokenCachePersistenceOptions } from './persistent-cache'
import { createPkce, randomState } from './pkce'
import { parseLoopbackRedirectUri, RedirectListener } from './redirect-listener'

/** The Azure CLI's public client id: `@azure/identity`'s default for developer sign-in. */
export const DEVELOPER_SIGN_ON_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'

/** Default time limit of one browser sign-in: 5 minutes. */
export const DEFAULT_SIGN_IN_TIMEOUT_MS = 300_000

/**
 * Options of {@link InteractiveBrowserCredential}: `@azure/identity`'s names, plus `openBrowser`
 * and `signInTimeoutMs`.
 * @public
 */
export interface InteractiveBrowserCredentialOptions extends UserCredentialOptions {
  /** The tenant (GUID, domain, `organizations`, `common` or `consumers`). Default `organizations`. */
  tenantId?: string
  /** The application (client) id, a public client with a loopback redirect URI. Default the Azure CLI's ({@link DEVELOPER_SIGN_ON_CLIENT_ID}). */
  clientId?: string
  /**
   * The loopback redirect URI the browser returns to: `http://localhost` (default: a random free port),
   * or a fixed port and path such as `http://localhost:44300/reply` (register it on the app). Bound to
   * the loopback interface only: 127.0.0.1 and ::1 on the same port for `localhost` (a browser may try either), 127.0.0.1 or ::1 alone for `http://127.0.0.1` / `http://[::1]`.
   */
  redirectUri?: string | (() => string)
  /** Pre-fills the username on the sign-in page (`login_hint`). */
  loginHint?: string
  /** Texts of the page the browser shows after the redirect. */
  browserCustomizationOptions?: { successMessage?: string; errorMessage?: string }
  /**
   * Opens the authorize URL. Default: the platform's browser through the `open` package (loaded only
   * when a sign-in starts). Pass your own to print the URL, use a specific browser, or drive one in tests.
   */
  openBrowser?: (url: string) => void | Promise<void>
  /** Longest wait for the browser to come back, ms (1 000 to 3 600 000). Default 300 000 (5 minutes). */
  signInTimeoutMs?: number
  /** Keep tokens on disk with `@azcred/token-cache-file` (when no `tokenCache` is given). */
  tokenCachePersistenceOptions?: TokenCachePersistenceOptions
}

/** Opens a URL in the platform's browser through `open` (an optional import: only a real sign-in loads it). */
async function openWithPlatformBrowser(url: string): Promise<void> {
  const { default: open } = await import('open')
  await open(url, { wait: false })
}

/**
 * Signs a user in with their browser: the authorization code flow with PKCE (S256) and a random
 * `state` that the loopback listener checks, then keeps them signed in (refresh token: new
 * audiences, tenants and expiry with no second browser trip). Same name and options as
 * `@azure/identity`'s (Node).
 *
 * The listener binds to the loopback interface only, accepts exactly one redirect with the sign-in's
 * `state`, answers a clear page to anything else, and is closed on every outcome.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a bad option.
 * @throws AzcredError from `getToken`/`authenticate`: AZCRED_AUTHENTICATION_CANCELLED (the user
 * cancelled or declined), AZCRED_TIMEOUT (`signInTimeoutMs`), AZCRED_ABORTED, AZCRED_CONFIG_INVALID
 * (port of `redirectUri` in use, naming it), AZCRED_INTERACTION_REQUIRED (with
 * `disableAutomaticAuthentication`), AZCRED_TOKEN_REQUEST_FAILED (Entra refused, with its AADSTS code).
 * @example
 * const credential = new InteractiveBrowserCredential({ tenantId, clientId })
 * const { token } = await credential.getToken('https://graph.microsoft.com/User.Read')
 * @public
 */
export class InteractiveBrowserCredential implements TokenCredential {
  readonly #lifecycle: UserTokenLifecycle
  /** The persistent cache being loaded (tokenCachePersistenceOptions); undefined without one. */
  readonly #ready: Promise<void> | undefined

  constructor(options: InteractiveBrowserCredentialOptions = {}) {
    assertConfig(typeof options === 'object' && options !== null, 'options must be an object')
    const authorityHost = resolveAuthorityHost(options)
    const { tenantId = 'organizations', clientId = DEVELOPER_SIGN_ON_CLIENT_ID, redirectUri = 'http://localhost', loginHint, openBrowser } = options
    const { signInTimeoutMs = DEFAULT_SIGN_IN_TIMEOUT_MS, browserCustomizationOptions: pages = {}, fetch, timeoutMs } = options
    assertConfig(typeof redirectUri === 'string' || typeof redirectUri === 'function', 'redirectUri must be a string or a function returning one')
    if (typeof redirectUri === 'string') parseLoopbackRedirectUri(redirectUri) // checked now, not at the first sign-in
    assertConfig(loginHint === undefined || typeof loginHint === 'string', 'loginHint must be a string')
    assertConfig(openBrowser === undefined || typeof openBrowser === 'function', 'openBrowser must be a function (url) => void | Promise<void>')
    assertConfig(
      Number.isInteger(signInTimeoutMs) && signInTimeoutMs >= 1_000 && signInTimeoutMs <= 3_600_000,
      'signInTimeoutMs must be an integer number of milliseconds from 1000 to 3600000',
    )
    assertConfig(
      typeof pages === 'object' && pages !== null && [pages.successMessage, pages.errorMessage].every((text) => text === undefined || typeof text === 'string'),
      'browserCustomizationOptions.successMessage and errorMessage must be strings',
    )
    const open = openBrowser ?? openWithPlatformBrowser
    const successMessage = pages.successMessage
    const errorMessage = pages.errorMessage

    const interactive = async (request: TokenRequest): Promise<TokenResponse> => {
      const uri = typeof redirectUri === 'function' ? redirectUri() : redirectUri
      assertConfig(typeof uri === 'string', 'redirectUri() must return a string')
      const listener = await RedirectListener.start(parseLoopbackRedirectUri(uri), { successMessage, errorMessage })
      try {
        const pkce = createPkce()
        const state = randomState()
        const actualRedirectUri = listener.redirectUri
        const authorizeUrl = new URL(`${authorityHost}/${encodeURIComponent(request.tenantId)}/oauth2/v2.0/authorize`)
        const query = authorizeUrl.searchParams
        query.set('client_id', clientId)
        query.set('response_type', 'code')
        query.set('redirect_uri', actualRedirectUri)
        query.set('response_mode', 'query')
        query.set('scope', request.scopes.join(' '))
        query.set('state', state)
        query.set('code_challenge', pkce.challenge)
        query.set('code_challenge_method', 'S256')
        query.set('client_info', '1')
        if (loginHint) query.set('login_hint', loginHint)
        if (request.claims) query.set('claims', request.claims)
        const waiting = listener.wait(state, signInTimeoutMs, request.abortSignal)
        waiting.catch(() => {}) // observed below; an early failure of openBrowser must not leave it unhandled
        // openBrowser may return at once or when the page loaded; one that never returns cannot hold the
        // sign-in past its time limit or abort: the redirect (or the wait's end) wins the race.
        const opening = Promise.resolve()
          .then(() => open(authorizeUrl.toString()))
          .then(
            () => undefined,
            () => {
              throw new AzcredError(
                'AZCRED_CONFIG_INVALID',
                'could not open a browser for the sign-in: pass openBrowser (for example one that prints the URL), or use DeviceCodeCredential on a machine without a browser',
              )
            },
          )
        opening.catch(() => {})
        await Promise.race([opening, waiting])
        const { code } = await waiting
        return await requestTokenGrant({
          authorityHost,
          clientId,
          request,
          grant: { grant_type: 'authorization_code', code, redirect_uri: actualRedirectUri, code_verifier: pkce.verifier, client_info: '1' },
          fetch,
          timeoutMs,
          abortSignal: request.abortSignal,
        })
      } finally {
        await listener.close()
      }
    }

    const { tokenCache, ready } = resolveTokenCache(options.tokenCache, options.tokenCachePersistenceOptions)
    this.#ready = ready
    this.#lifecycle = new UserTokenLifecycle({
      ...lifecycleOptions(options),
      credentialName: 'InteractiveBrowserCredential',
      tenantId,
      clientId,
      authorityHost,
      additionallyAllowedTenants: options.additionallyAllowedTenants,
      authenticationRecord: options.authenticationRecord,
      disableAutomaticAuthentication: options.disableAutomaticAuthentication,
      tokenCache,
      interactive,
      fetch,
    })
  }

  /**
   * A token for the scopes: from memory or the `tokenCache`, else from the refresh token, else (unless
   * `disableAutomaticAuthentication`) by a browser sign-in.
   * @throws AzcredError see the class documentation.
   */
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#ready) await this.#ready
    return this.#lifecycle.getToken(scopes, options)
  }

  /**
   * Signs the user in with the browser (even when a token is cached) and returns the account; keep it
   * with `serializeAuthenticationRecord` and pass it back as `authenticationRecord` after a restart.
   * @throws AzcredError see the class documentation.
   */
  async authenticate(scopes: string | string[], options?: GetTokenOptions): Promise<AuthenticationRecord> {
    if (this.#ready) await this.#ready
    return this.#lifecycle.authenticate(scopes, options)
  }
}
