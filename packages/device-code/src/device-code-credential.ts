import {
  type AccessToken,
  type AuthenticationRecord,
  AzcredError,
  assertConfig,
  assertTenantId,
  checkNumber,
  type GetTokenOptions,
  lifecycleOptions,
  normalizeScopes,
  resolveAuthorityHost,
  type TokenCache,
  type TokenCredential,
  type UserCredentialOptions,
  UserTokenLifecycle,
} from '@azcred/core'
import { type DeviceCodeInfo, type DeviceCodePromptCallback, deviceCodeSignIn } from './device-code-sign-in'

/**
 * The client id the official libraries use by default for device code sign-in: the Azure CLI's public client.
 * @public
 */
export const DEVICE_CODE_DEFAULT_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'

/**
 * Longest sign-in accepted for `signInTimeoutMs`, in milliseconds (one hour; Entra's codes live 15 minutes).
 * @public
 */
export const MAX_SIGN_IN_TIMEOUT_MS = 3_600_000

/**
 * The official persistence options (`@azure/identity`'s shape): with `enabled: true` tokens and refresh
 * tokens are kept in `@azcred/token-cache-file` (install it beside this package), encrypted unless
 * `unsafeAllowUnencryptedStorage` is true. The object is handed to that package unchanged.
 * @public
 */
export interface TokenCachePersistenceOptions {
  /** Keep the session on disk. Default false (memory only). */
  enabled: boolean
  /** The cache's name: applications with different names keep separate caches. Default as `@azcred/token-cache-file`'s. */
  name?: string
  /** Store in plaintext when no encryption key can be had. Default false. */
  unsafeAllowUnencryptedStorage?: boolean
  /** `@azcred/token-cache-file`'s own options (`directory`, `keySource`, `onEvent`...), passed on unchanged. */
  [option: string]: unknown
}

/**
 * Options of {@link DeviceCodeCredential}: the official names, plus `signInTimeoutMs` and `extraScopesToConsent`.
 * @public
 */
export interface DeviceCodeCredentialOptions extends UserCredentialOptions {
  /** The tenant: a GUID, a domain, `organizations` (work or school accounts), `common` or `consumers`. Default `organizations`. */
  tenantId?: string
  /** A public client application (client) id. Default the Azure CLI's, {@link DEVICE_CODE_DEFAULT_CLIENT_ID}. */
  clientId?: string
  /**
   * Shows the code to the user. Default: Entra's message on stderr (with a QR code of the page when stderr
   * is a terminal, in Node), or `console.error` elsewhere.
   */
  userPromptCallback?: DeviceCodePromptCallback
  /**
   * Longest wait for the user to sign in, in milliseconds (1 to {@link MAX_SIGN_IN_TIMEOUT_MS}); never longer
   * than the code's own lifetime (`expires_in`, 15 minutes from Entra ID). Then `AZCRED_TIMEOUT`. Default the code's lifetime.
   */
  signInTimeoutMs?: number
  /**
   * Scopes of other resources the user consents to during the sign-in (as MSAL's `extraScopesToConsent`,
   * AzSessions' `scope_auth`), such as `https://storage.azure.com/user_impersonation`: tokens for them then
   * come from the refresh token without another prompt. Default none.
   */
  extraScopesToConsent?: string[]
  /** Keep the session on disk with `@azcred/token-cache-file` (official shape). Not together with `tokenCache`. */
  tokenCachePersistenceOptions?: TokenCachePersistenceOptions
}

/**
 * Loads `@azcred/token-cache-file` only when persistence is asked for (a bundle without it leaves it out:
 * the specifier is a parameter, so bundlers do not follow it) and makes the cache.
 */
export async function loadPersistentCache(options: TokenCachePersistenceOptions, specifier = '@azcred/token-cache-file'): Promise<TokenCache> {
  let module: { persistentTokenCache?: (options: TokenCachePersistenceOptions) => TokenCache | Promise<TokenCache> }
  try {
    module = await import(/* @vite-ignore */ specifier)
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? 'tokenCachePersistenceOptions needs the @azcred/token-cache-file package: install it (npm install @azcred/token-cache-file), or pass a tokenCache'
        : 'tokenCachePersistenceOptions: @azcred/token-cache-file could not be loaded (it is Node-only): pass a tokenCache instead',
      { cause: { name: (error as { name?: unknown } | undefined)?.name, code } },
    )
  }
  assertConfig(typeof module.persistentTokenCache === 'function', '@azcred/token-cache-file has no persistentTokenCache: update it')
  return module.persistentTokenCache(options)
}

/**
 * Signs a user in with a code entered on another device (OAuth 2.0 device authorization grant, RFC 8628),
 * then stays signed in: tokens come from memory or `tokenCache`, then from the refresh token (for any
 * resource the user consented to: one sign-in, many audiences), and a prompt only when nothing else can
 * serve. Same name and options as `@azure/identity`'s, so migrating is changing an import.
 *
 * Polling honours Entra's `interval` and adds 5 s on every `slow_down`; a poll lost to a network error or a
 * 5xx is sent again without a new code. Refresh, device and id tokens are never in a message, event or `util.inspect`.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a bad option.
 * @throws AzcredError from `getToken` and `authenticate`: AZCRED_INTERACTION_REQUIRED (a sign-in is
 * needed and `disableAutomaticAuthentication` is set, or a resource needs consent), AZCRED_AUTHENTICATION_CANCELLED
 * (the user declined, AADSTS65004), AZCRED_TOKEN_REQUEST_FAILED (the code expired, AADSTS70020; a bad code,
 * AADSTS70018; other refusals with their AADSTS code), AZCRED_TIMEOUT (`signInTimeoutMs` or the code's lifetime
 * passed), AZCRED_ABORTED, AZCRED_NETWORK_ERROR, AZCRED_RESPONSE_INVALID.
 * @example
 * const credential = new DeviceCodeCredential()
 * const { token } = await credential.getToken('https://management.azure.com/.default')
 */
export class DeviceCodeCredential implements TokenCredential {
  readonly #lifecycle: UserTokenLifecycle
  /** The persistent cache being loaded; undefined once loaded or when there is none. */
  #loading: Promise<void> | undefined
  /** Starts loading the persistent cache. */
  #load: (() => Promise<void>) | undefined

  constructor(options: DeviceCodeCredentialOptions = {}) {
    assertConfig(typeof options === 'object' && options !== null, 'options must be an object')
    const authorityHost = resolveAuthorityHost(options)
    const tenantId = options.tenantId ?? 'organizations'
    assertTenantId(tenantId)
    const clientId = options.clientId ?? DEVICE_CODE_DEFAULT_CLIENT_ID
    assertConfig(typeof clientId === 'string' && /^[!-~]{1,256}$/.test(clientId), 'clientId must be an application (client) id: 1 to 256 printable characters')
    const { userPromptCallback, extraScopesToConsent, tokenCachePersistenceOptions: persistence } = options
    assertConfig(userPromptCallback === undefined || typeof userPromptCallback === 'function', 'userPromptCallback must be a function')
    const signInTimeoutMs = checkNumber(options.signInTimeoutMs, 'signInTimeoutMs', MAX_SIGN_IN_TIMEOUT_MS, 1)
    const extraScopes = extraScopesToConsent === undefined ? [] : normalizeScopes(extraScopesToConsent)
    assertConfig(
      persistence === undefined || (typeof persistence === 'object' && persistence !== null && typeof persistence.enabled === 'boolean'),
      'tokenCachePersistenceOptions must be { enabled: boolean, name?, unsafeAllowUnencryptedStorage? }',
    )
    const persist = persistence?.enabled === true
    assertConfig(!(persist && options.tokenCache !== undefined), 'pass tokenCache or tokenCachePersistenceOptions, not both')
    let tokenCache = options.tokenCache
    if (persist) {
      // Loaded before the first getToken or authenticate (#ready); every call after it goes straight to the file cache.
      let loaded: TokenCache | undefined
      const cache = (): TokenCache => loaded as TokenCache
      tokenCache = {
        read: (key) => cache().read(key),
        write: (key, value, expiresOnTimestamp) => cache().write(key, value, expiresOnTimestamp),
        remove: (key) => cache().remove(key),
        scrub: () => cache().scrub(),
      }
      this.#load = () => {
        const loading = loadPersistentCache(persistence).then((value) => {
          assertConfig(
            typeof value === 'object' && value !== null && typeof value.read === 'function' && typeof value.write === 'function',
            '@azcred/token-cache-file returned no TokenCache: update it',
          )
          loaded = value
        })
        // Reported to the caller that waits for it (never an unhandled rejection).
        loading.catch(() => {})
        return loading
      }
      this.#loading = this.#load()
    }
    const prompt: DeviceCodePromptCallback = userPromptCallback ?? defaultPrompt
    this.#lifecycle = new UserTokenLifecycle({
      ...lifecycleOptions(options),
      tokenCache,
      credentialName: 'DeviceCodeCredential',
      tenantId,
      clientId,
      authorityHost,
      additionallyAllowedTenants: options.additionallyAllowedTenants,
      authenticationRecord: options.authenticationRecord,
      disableAutomaticAuthentication: options.disableAutomaticAuthentication,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      interactive: (request) =>
        deviceCodeSignIn(
          {
            credentialName: 'DeviceCodeCredential',
            authorityHost,
            clientId,
            prompt,
            signInTimeoutMs,
            extraScopesToConsent: extraScopes,
            fetch: options.fetch,
            timeoutMs: options.timeoutMs,
          },
          request,
        ),
    })
  }

  /** Waits for the persistent cache on the first call; a load that failed is tried again by the next call. */
  #ready(): Promise<void> | undefined {
    const loading = this.#loading
    if (loading === undefined) return undefined
    return loading.then(
      () => {
        if (this.#loading === loading) this.#loading = undefined
      },
      (error: unknown) => {
        if (this.#loading === loading) this.#loading = this.#load?.()
        throw error
      },
    )
  }

  /**
   * A token for the scopes: from memory or the cache, else from the refresh token (any resource the user
   * consented to), else by a device code sign-in (unless `disableAutomaticAuthentication`).
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const ready = this.#ready()
    return ready === undefined ? this.#lifecycle.getToken(scopes, options) : ready.then(() => this.#lifecycle.getToken(scopes, options))
  }

  /**
   * Signs the user in with a device code (even when a token is cached) and returns the account; store it
   * with `serializeAuthenticationRecord` and pass it back as `authenticationRecord` (with the same
   * `tokenCache` or persistence) so a restarted process is signed in without a prompt.
   * `disableAutomaticAuthentication` does not apply here.
   * @throws AzcredError see the class documentation.
   */
  async authenticate(scopes: string | string[], options?: GetTokenOptions): Promise<AuthenticationRecord> {
    await this.#ready()
    return this.#lifecycle.authenticate(scopes, options)
  }

  /** The signed-in account (from `authenticationRecord` or the last sign-in), or undefined. */
  get authenticationRecord(): AuthenticationRecord | undefined {
    return this.#lifecycle.authenticationRecord
  }
}

/** The runtime-agnostic default prompt: Entra's message on the console's error stream (stderr where there is one). */
function defaultPrompt(info: DeviceCodeInfo): void {
  ;(globalThis as { console?: { error(text: string): void } }).console?.error(info.message)
}
