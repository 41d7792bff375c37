import { clientAssertionAuthentication } from '@azcred/client-assertion'
import { clientCertificateAuthentication } from '@azcred/client-certificate'
import { clientSecretAuthentication } from '@azcred/client-secret'
import {
  type AccessToken,
  AzcredError,
  assertConfig,
  assertNonEmpty,
  assertTenantId,
  type ClientAuthentication,
  type EntraCredentialOptions,
  type GetTokenOptions,
  InteractionRequiredError,
  jwtExpiresAt,
  lifecycleOptions,
  parseTokenCacheEntry,
  readJwtClaims,
  requestTokenGrant,
  resolveAuthorityHost,
  serializeTokenCacheEntry,
  serverText,
  type TokenCache,
  type TokenCredential,
  TokenLifecycle,
  type TokenRequest,
  TokenRequestError,
  type TokenResponse,
  USER_SCOPES,
} from '@azcred/core'
import { OnBehalfOfUserCache, storeOf, type UserStore } from './on-behalf-of-user-cache'

/**
 * What every shape of {@link OnBehalfOfCredentialOptions} has: the app, the incoming user token, and
 * the Entra ID options (`authorityHost` or `cloud`, `additionallyAllowedTenants`, `fetch`,
 * `allowInsecureConnection`, `tokenCache`, `onEvent`, `retry`, `refresh`, `timeoutMs`).
 * @public
 */
export interface OnBehalfOfCredentialBaseOptions extends EntraCredentialOptions {
  /** The API's tenant (a GUID or a domain). */
  tenantId: string
  /** The API's application (client) id. */
  clientId: string
  /**
   * The access token the API's caller sent (the `Authorization: Bearer` value without `Bearer `): its
   * `aud` must be this API (its client id or an App ID URI), never Microsoft Graph. A secret: never
   * shown, logged or used as a cache key (its SHA-256 names the user's entries).
   */
  userAssertionToken: string
  /**
   * The bounded per-user store shared by the credentials of this process (a server builds one
   * credential per request). Default: one process-wide {@link OnBehalfOfUserCache} of 10 000 users.
   */
  userCache?: OnBehalfOfUserCache | undefined
}

/**
 * The API authenticates with a client secret.
 * @public
 */
export interface OnBehalfOfCredentialSecretOptions extends OnBehalfOfCredentialBaseOptions {
  /** The secret Value from the app registration (Certificates & secrets). */
  clientSecret: string
  certificate?: never
  getAssertion?: never
  clientAuthentication?: never
}

/**
 * The API authenticates with a certificate (PEM text). A file path needs `@azcred/on-behalf-of/node`.
 * @public
 */
export interface OnBehalfOfCredentialCertificateOptions extends OnBehalfOfCredentialBaseOptions {
  /** PEM text holding the RSA private key and its certificate. */
  certificate: string
  /** Send the certificate chain (`x5c`) for subject-name/issuer authentication. Default false. */
  sendCertificateChain?: boolean | undefined
  clientSecret?: never
  getAssertion?: never
  clientAuthentication?: never
}

/**
 * The API authenticates with a client assertion (a federated token, a managed identity's token).
 * @public
 */
export interface OnBehalfOfCredentialAssertionOptions extends OnBehalfOfCredentialBaseOptions {
  /** Returns a client assertion JWT (as `@azure/identity`'s `getAssertion`). */
  getAssertion: () => string | Promise<string>
  clientSecret?: never
  certificate?: never
  clientAuthentication?: never
}

/**
 * The API authenticates with any {@link ClientAuthentication} (`clientSecretAuthentication`,
 * `clientCertificateAuthentication`, `clientAssertionAuthentication`): build it once per app and pass
 * it to every per-request credential, so nothing is parsed again per request.
 * @public
 */
export interface OnBehalfOfCredentialClientAuthenticationOptions extends OnBehalfOfCredentialBaseOptions {
  clientAuthentication: ClientAuthentication
  clientSecret?: never
  certificate?: never
  getAssertion?: never
}

/**
 * Options of {@link OnBehalfOfCredential}: exactly one of `clientSecret`, `certificate`, `getAssertion`
 * or `clientAuthentication`.
 * @public
 */
export type OnBehalfOfCredentialOptions =
  | OnBehalfOfCredentialSecretOptions
  | OnBehalfOfCredentialCertificateOptions
  | OnBehalfOfCredentialAssertionOptions
  | OnBehalfOfCredentialClientAuthenticationOptions

/** `grant_type` of on-behalf-of (RFC 7523 JWT bearer grant, with `requested_token_use=on_behalf_of`). */
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

let defaultUserCache: OnBehalfOfUserCache | undefined

// A number per app (authority host and client id), so a user's key in the store is short: `${number} ${account}`.
const appIds = new Map<string, number>()
const MAX_APP_IDS = 10_000
function appId(authorityHost: string, clientId: string): number | string {
  const app = JSON.stringify([authorityHost, clientId])
  const id = appIds.get(app)
  if (id !== undefined) return id
  if (appIds.size >= MAX_APP_IDS) return app // past the bound, the app itself (a JSON array: never a number)
  appIds.set(app, appIds.size)
  return appIds.size - 1
}

// Store keys without the account, interned: every user of an app asking for the same scopes shares one string.
const shortKeys = new Map<string, string>()
const MAX_SHORT_KEYS = 1_000
function shortKey(key: string, account: string): string {
  const short = key.replace(JSON.stringify(account), '""')
  const interned = shortKeys.get(short)
  if (interned !== undefined) return interned
  if (shortKeys.size < MAX_SHORT_KEYS) shortKeys.set(short, short)
  return short
}

/** An entry with its access token only (valid, by the cache entry rules), and its expiry; undefined without one. */
function compactValue(value: unknown): { value: string; expires: number } | undefined {
  const accessToken = parseTokenCacheEntry(value)?.accessToken
  return accessToken && { value: serializeTokenCacheEntry({ accessToken }), expires: accessToken.expiresOnTimestamp }
}

/** `obo:<base64url SHA-256 of the assertion>`: the user's partition, never the assertion itself. */
async function assertionAccount(assertion: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(assertion)))
  let binary = ''
  for (const byte of digest) binary += String.fromCharCode(byte)
  return `obo:${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`
}

/** The client authentication of the options: exactly one way. */
function clientAuthenticationOf(options: OnBehalfOfCredentialOptions): ClientAuthentication {
  const given = (['clientSecret', 'certificate', 'getAssertion', 'clientAuthentication'] as const).filter((name) => options[name] !== undefined)
  assertConfig(
    !('certificatePath' in options && (options as { certificatePath?: unknown }).certificatePath !== undefined),
    'certificatePath needs the Node entry: import { OnBehalfOfCredential } from "@azcred/on-behalf-of/node", or pass the PEM text as certificate',
  )
  assertConfig(
    given.length === 1,
    `pass exactly one of clientSecret, certificate, getAssertion or clientAuthentication (${given.length === 0 ? 'none was' : `${given.join(' and ')} were`} given)`,
  )
  if (options.clientSecret !== undefined) return clientSecretAuthentication(options.clientSecret)
  if (options.certificate !== undefined) {
    return clientCertificateAuthentication({ certificate: options.certificate }, { sendCertificateChain: options.sendCertificateChain })
  }
  if (options.getAssertion !== undefined) {
    assertConfig(typeof options.getAssertion === 'function', 'getAssertion must be a function returning a client assertion')
    return clientAssertionAuthentication(options.getAssertion)
  }
  const authentication = options.clientAuthentication
  assertConfig(
    typeof (authentication as Partial<ClientAuthentication> | null)?.formFields === 'function',
    'clientAuthentication must be a ClientAuthentication (clientSecretAuthentication, clientCertificateAuthentication, clientAssertionAuthentication)',
  )
  return authentication as ClientAuthentication
}

/** The incoming token's `aud`, safe to show (not a secret): capped, printable only. */
function audienceOf(assertion: string): string {
  const aud = readJwtClaims(assertion)?.aud
  const text = Array.isArray(aud) ? aud.filter((value) => typeof value === 'string').join(', ') : aud
  return typeof text === 'string' && text !== '' ? `"${serverText(text, 200)}"` : 'none'
}

const CONSENT = [65001]
const MFA = [50076, 50078, 50079, 50158]

/**
 * What an Entra refusal of the on-behalf-of grant means for the API: the incoming token expired
 * (500133), is not for this API (50013: names its `aud`), is not a JWT (50027) — the API's caller must
 * send another, so these stay `AZCRED_TOKEN_REQUEST_FAILED` — or the user must consent or pass MFA
 * (65001, 50076...: `AZCRED_INTERACTION_REQUIRED` with Entra's `claims`). Anything else as it is.
 */
function explainRefusal(error: unknown, assertion: string, clientId: string): unknown {
  if (!AzcredError.isInstance(error) || error.code !== 'AZCRED_TOKEN_REQUEST_FAILED') return error
  const { status, errorCodes: codes, traceId, correlationId, retryAfterMs, claims } = error
  const oauthError = /^\w{1,64}$/.test(error.error ?? '') ? error.error : undefined
  const details = { status, error: oauthError, errorCodes: codes, traceId, correlationId, claims }
  const has = (list: number[]): boolean => codes.some((code) => list.includes(code))
  const prefix = `OnBehalfOfCredential: on-behalf-of refused (HTTP ${status} ${oauthError ?? 'error'}${error.aadstsCode ? `, ${error.aadstsCode}` : ''})`
  const refuse = (why: string): TokenRequestError => new TokenRequestError(`${prefix}: ${why}`, { ...details, retryAfterMs }, { cause: error })
  if (has([500133])) {
    return refuse(
      'the incoming user token (userAssertionToken) has expired or is not yet valid: answer the caller 401 so that it sends a fresh token for this API',
    )
  }
  if (has([50013])) {
    return refuse(
      `the incoming user token (userAssertionToken) is not valid for this API: its aud is ${audienceOf(assertion)}, and on-behalf-of needs a user token ` +
        `issued for this API (aud = its client id ${clientId} or one of its App ID URIs, such as api://${clientId}), signed by Entra ID for this tenant; ` +
        'a Microsoft Graph or other API token cannot be exchanged: the caller must request a token for a scope of this API',
    )
  }
  if (has([50027])) {
    return refuse('the incoming user token (userAssertionToken) is not a valid JWT: pass the access token from the Authorization header, without "Bearer "')
  }
  if (has(CONSENT) || oauthError === 'consent_required') {
    return new InteractionRequiredError(
      `${prefix}: the user (or an administrator) has not consented to the downstream scopes for this API: the caller must sign the user in again ` +
        'with consent for them, or an administrator grants consent; answer the caller with claimsChallengeHeader(error)',
      details,
      { cause: error },
    )
  }
  if (has(MFA) || oauthError === 'interaction_required' || claims !== undefined) {
    return new InteractionRequiredError(
      `${prefix}: Entra ID asks for multi-factor authentication or another Conditional Access step for the downstream resource: ` +
        'answer the caller 401 with the WWW-Authenticate header claimsChallengeHeader(error) returns, so it signs the user in again with these claims',
      details,
      { cause: error },
    )
  }
  return error
}

/** True for a refusal of a refresh token (any 4xx but a throttle): on-behalf-of is tried instead. */
function isRefusal(error: unknown): boolean {
  return AzcredError.isInstance(error) && error.code === 'AZCRED_TOKEN_REQUEST_FAILED' && error.status >= 400 && error.status < 500 && error.status !== 429
}

/**
 * Tokens for a downstream API on behalf of the user who called this API (OAuth 2.0 on-behalf-of: the
 * JWT bearer grant with `requested_token_use=on_behalf_of`, Entra ID v2.0). Same name and options as
 * `@azure/identity`'s, so migrating is changing an import; a certificate file path needs
 * `@azcred/on-behalf-of/node`.
 *
 * Built for one credential per request: the constructor sends nothing and hashes nothing, and tokens
 * are kept per user in a shared, bounded {@link OnBehalfOfUserCache} (the process-wide one unless
 * `userCache` is given), under the SHA-256 of the user's token (`obo:<hash>`), so the same user's
 * next request is served from memory. The refresh token an answer carries is kept with the user and
 * redeemed for other scopes and after expiry (on-behalf-of again when it is refused). A user's tokens
 * are dropped when the incoming token expires. With a `tokenCache` (Redis, a file) the tokens are also
 * written there, and read from it on a miss.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed tenant id, an empty
 * client id or user token, none or several of `clientSecret` / `certificate` / `getAssertion` /
 * `clientAuthentication`, a `certificatePath` (Node entry), a bad certificate, or a non-https authority host.
 * @throws AzcredError from `getToken`: AZCRED_TOKEN_REQUEST_FAILED for AADSTS500133 (the incoming token
 * expired), AADSTS50013 (it is not for this API: the message names its `aud`), AADSTS50027 (not a JWT)
 * and other refusals; AZCRED_INTERACTION_REQUIRED for consent (AADSTS65001) or MFA / Conditional Access
 * (AADSTS50076, `interaction_required`), carrying Entra's `claims` (see `claimsChallengeHeader`);
 * AZCRED_NETWORK_ERROR, AZCRED_TIMEOUT, AZCRED_ABORTED, AZCRED_RESPONSE_INVALID.
 * @example
 * const credential = new OnBehalfOfCredential({ tenantId, clientId, clientSecret, userAssertionToken: bearerToken })
 * const { token } = await credential.getToken('https://storage.azure.com/.default')
 * @public
 */
export class OnBehalfOfCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle
  readonly #assertion: string
  /** The authority host and client id: with the account, this credential's user key in the shared store. */
  readonly #app: readonly [string, string]
  /** `obo:<base64url SHA-256 of the user token>`, once getToken computed it. */
  #account: string | undefined
  /** The user's key in the shared store: the app's number (authority and client id) and the account. */
  #user: string | undefined
  #userReady: Promise<void> | undefined

  constructor(options: OnBehalfOfCredentialOptions) {
    assertConfig(
      typeof options === 'object' && options !== null,
      'options must be an object with tenantId, clientId, userAssertionToken and a client secret, certificate or assertion',
    )
    const { tenantId, clientId, userAssertionToken: assertion, additionallyAllowedTenants, fetch, timeoutMs } = options
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', "pass the API's application (client) id")
    assertNonEmpty(assertion, 'userAssertionToken', 'pass the access token from the incoming Authorization header (without "Bearer ")')
    const clientAuthentication = clientAuthenticationOf(options)
    const authorityHost = resolveAuthorityHost(options)
    defaultUserCache ??= options.userCache === undefined ? new OnBehalfOfUserCache() : undefined
    const cache = options.userCache ?? (defaultUserCache as OnBehalfOfUserCache)
    const store: UserStore = storeOf(cache)
    const { tokenCache: external, ...lifecycle } = lifecycleOptions(options)
    assertConfig(
      external === undefined || ['read', 'write', 'remove'].every((name) => typeof (external as unknown as Record<string, unknown>)[name] === 'function'),
      'tokenCache must implement read, write and remove',
    )
    this.#assertion = assertion
    const assertionExpires = jwtExpiresAt(assertion) || Number.POSITIVE_INFINITY
    // The user's key (set by getToken before any cache call): one app's users never meet another app's.
    const user = (): string => this.#user as string

    // The engine's tokenCache: this user's entries in the shared store, then the caller's tokenCache.
    // In the store an entry is kept small: its key without the account (the user entry is the
    // account's; the same string is shared by every user), its value with the access token only (the
    // refresh token is kept once, with the user).
    const userTokens: TokenCache = {
      read: async (key) => {
        const value = store.read(user(), shortKey(key, this.#account as string))
        if (value !== undefined || external === undefined) return value
        const found = await external.read(key)
        const small = compactValue(found)
        if (small !== undefined) store.write(user(), assertionExpires, shortKey(key, this.#account as string), small.value, small.expires)
        return found
      },
      write: async (key, value, expiresOnTimestamp) => {
        const small = compactValue(value)
        if (small !== undefined) store.write(user(), assertionExpires, shortKey(key, this.#account as string), small.value, small.expires)
        await external?.write(key, value, expiresOnTimestamp)
      },
      remove: async (key) => {
        store.remove(user(), shortKey(key, this.#account as string))
        await external?.remove(key)
      },
      scrub: async () => {
        await external?.scrub()
      },
    }

    const send = (request: TokenRequest, grant: Record<string, string>): Promise<TokenResponse> =>
      requestTokenGrant({
        authorityHost,
        clientId,
        // openid profile offline_access, as the official libraries ask: the answer then carries a refresh token.
        request: { ...request, scopes: [...request.scopes, ...USER_SCOPES.filter((scope) => !request.scopes.includes(scope))] },
        grant: { ...grant, client_info: '1' },
        clientAuthentication,
        fetch,
        timeoutMs,
      })

    const acquire = async (request: TokenRequest): Promise<TokenResponse> => {
      const held = store.refreshToken(user())
      let response: TokenResponse | undefined
      if (held !== undefined) {
        try {
          response = await send(request, { grant_type: 'refresh_token', refresh_token: held })
        } catch (error) {
          if (!isRefusal(error)) throw error
          // Expired, revoked, or not enough for these scopes (MFA, consent): on-behalf-of decides.
          if (store.refreshToken(user()) === held) store.setRefreshToken(user(), assertionExpires, undefined)
        }
      }
      if (response === undefined) {
        try {
          response = await send(request, { grant_type: JWT_BEARER_GRANT, assertion, requested_token_use: 'on_behalf_of' })
        } catch (error) {
          throw explainRefusal(error, assertion, clientId)
        }
      }
      if (response.refreshToken) store.setRefreshToken(user(), assertionExpires, response.refreshToken)
      return response
    }

    // One request for concurrent requests of the same user through different credentials (a page
    // calling the API several times at once). A joiner whose request was aborted by its starter's
    // callers leaving asks on its own.
    const fetchToken = async (request: TokenRequest): Promise<TokenResponse> => {
      if (request.claims !== undefined) return acquire(request)
      const { flights } = store
      const key = `${user()}\n${request.tenantId.toLowerCase()}\n${[...request.scopes].sort().join(' ')}\n${request.enableCae}`
      const running = flights.get(key) as Promise<TokenResponse> | undefined
      if (running !== undefined) {
        try {
          return await running
        } catch (error) {
          if (!(AzcredError.isInstance(error) && error.code === 'AZCRED_ABORTED') || request.abortSignal?.aborted) throw error
        }
      }
      const promise = acquire(request)
      flights.set(key, promise)
      const done = (): void => {
        if (flights.get(key) === promise) flights.delete(key)
      }
      promise.then(done, done)
      return promise
    }

    this.#lifecycle = new TokenLifecycle({
      ...lifecycle,
      tokenCache: userTokens,
      cachePartition: () => ({ authority: authorityHost, clientId, account: this.#account as string }),
      credentialName: 'OnBehalfOfCredential',
      tenantId,
      additionallyAllowedTenants,
      fetchToken,
    })
    this.#app = [authorityHost, clientId]
  }

  /**
   * A token for the downstream scopes on behalf of the user: from the user's cache entry while valid
   * (also one another credential of this app stored), otherwise by refresh token or on-behalf-of, with
   * one request shared by this credential's concurrent callers.
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#user !== undefined) return this.#lifecycle.getToken(scopes, options)
    this.#userReady ??= assertionAccount(this.#assertion).then((account) => {
      this.#account = account
      this.#user = `${appId(...this.#app)} ${account}`
    })
    return this.#userReady.then(() => this.#lifecycle.getToken(scopes, options))
  }
}
