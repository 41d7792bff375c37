import {
  type AccessToken,
  allowedTenants,
  assertNonEmpty,
  assertTenantId,
  DEFAULT_AUTHORITY_HOST,
  ENV_AUTHORITY_HOST,
  type FetchLike,
  type GetTokenOptions,
  normalizeAuthorityHost,
  normalizeScopes,
  readEnv,
  requestEntraToken,
  resolveTenant,
  type TokenCredential,
} from '@azcred/core'

/** Options of {@link ClientSecretCredential}. */
export interface ClientSecretCredentialOptions {
  /**
   * Entra ID host. Default: `cloud.authorityHost`, else `AZURE_AUTHORITY_HOST`, else
   * `https://login.microsoftonline.com`.
   */
  authorityHost?: string
  /** A cloud from `@azcred/clouds`; only its `authorityHost` is used. */
  cloud?: { authorityHost: string }
  /** Tenants a call may switch to with `getToken(scopes, { tenantId })`; `*` allows any. Default none. */
  additionallyAllowedTenants?: string[]
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Time allowed for one token request, in milliseconds. Default 30 000. */
  timeoutMs?: number
  /** Accept an `http:` authority host on loopback (a local emulator). Default false. */
  allowInsecureConnection?: boolean
}

// A token is served from the cache while it has more than this left.
const EXPIRY_MARGIN_MS = 2 * 60 * 1000

/**
 * App-only tokens from a client secret (OAuth 2.0 client credentials grant, Entra ID v2.0).
 * Same name and constructor as `@azure/identity`'s, so migrating is changing an import.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed tenant id, an empty
 * client id or secret, or an authority host that is not https.
 * @throws AzcredError from `getToken`: AZCRED_TOKEN_REQUEST_FAILED (with Entra's AADSTS code),
 * AZCRED_NETWORK_ERROR, AZCRED_TIMEOUT, AZCRED_ABORTED, AZCRED_RESPONSE_INVALID.
 * @example
 * const credential = new ClientSecretCredential(tenantId, clientId, clientSecret)
 * const { token } = await credential.getToken('https://management.azure.com/.default')
 */
export class ClientSecretCredential implements TokenCredential {
  readonly #tenantId: string
  readonly #clientId: string
  readonly #clientSecret: string
  readonly #authorityHost: string
  readonly #allowedTenants: string[]
  readonly #fetch: FetchLike | undefined
  readonly #timeoutMs: number | undefined
  readonly #cache = new Map<string, AccessToken>()

  constructor(tenantId: string, clientId: string, clientSecret: string, options: ClientSecretCredentialOptions = {}) {
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    assertNonEmpty(clientSecret, 'clientSecret', 'pass the secret Value from the app registration (Certificates & secrets)')
    this.#tenantId = tenantId
    this.#clientId = clientId
    this.#clientSecret = clientSecret
    this.#authorityHost = normalizeAuthorityHost(
      options.authorityHost ?? options.cloud?.authorityHost ?? readEnv(ENV_AUTHORITY_HOST) ?? DEFAULT_AUTHORITY_HOST,
      { allowInsecureConnection: options.allowInsecureConnection },
    )
    this.#allowedTenants = allowedTenants(options.additionallyAllowedTenants)
    this.#fetch = options.fetch
    this.#timeoutMs = options.timeoutMs
  }

  /**
   * Returns a cached token while it has more than two minutes left, otherwise requests one.
   * @throws AzcredError see the class documentation.
   */
  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    const scopeList = normalizeScopes(scopes)
    const tenantId = resolveTenant(this.#tenantId, options.tenantId, this.#allowedTenants)
    const key = `${tenantId.toLowerCase()}|${[...scopeList].sort().join(' ')}`
    const cached = this.#cache.get(key)
    if (options.claims === undefined && cached !== undefined && cached.expiresOnTimestamp - EXPIRY_MARGIN_MS > Date.now()) {
      return cached
    }
    const form: Record<string, string> = {
      grant_type: 'client_credentials',
      client_id: this.#clientId,
      client_secret: this.#clientSecret,
      scope: scopeList.join(' '),
    }
    if (options.claims !== undefined) form.claims = options.claims
    const token = await requestEntraToken({
      authorityHost: this.#authorityHost,
      tenantId,
      form,
      fetch: this.#fetch,
      timeoutMs: options.requestOptions?.timeout ?? this.#timeoutMs,
      abortSignal: options.abortSignal,
    })
    this.#cache.set(key, token)
    return token
  }
}
