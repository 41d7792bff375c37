import {
  type AccessToken,
  type AuthenticationRecord,
  assertConfig,
  assertNonEmpty,
  type ClientAuthentication,
  type GetTokenOptions,
  InteractionRequiredError,
  lifecycleOptions,
  requestTokenGrant,
  resolveAuthorityHost,
  type TokenCredential,
  type TokenResponse,
  type UserCredentialOptions,
  UserTokenLifecycle,
} from '@azcred/core'
import { resolveTokenCache, type TokenCachePersistenceOptions } from './persistent-cache'

// What to do about the refusals only a client secret meets (as @azcred/client-secret says them).
const SECRET_HINTS: Record<number, string> = {
  7000215: 'the client secret is wrong: use the secret Value (not its ID), or create a new one if it was rotated',
  7000222: 'the client secret has expired: create a new one in the app registration',
}

/**
 * Options of {@link AuthorizationCodeCredential}: `@azure/identity`'s, plus `codeVerifier` and
 * `clientAuthentication`.
 * @public
 */
export interface AuthorizationCodeCredentialOptions extends UserCredentialOptions {
  /** The PKCE verifier of the authorize request that returned the code (RFC 7636); a secret. */
  codeVerifier?: string
  /**
   * How a confidential client proves itself, instead of a client secret argument:
   * `clientCertificateAuthentication(...)` (`@azcred/client-certificate`) or
   * `clientAssertionAuthentication(...)` (`@azcred/client-assertion`).
   */
  clientAuthentication?: ClientAuthentication
  /** Keep tokens on disk with `@azcred/token-cache-file` (when no `tokenCache` is given). */
  tokenCachePersistenceOptions?: TokenCachePersistenceOptions
}

/**
 * Redeems an authorization code your app received on its redirect URI (a web app's sign-in), once,
 * then keeps the user signed in with the refresh token (new audiences and tenants, expiry: silent).
 * Same constructor shapes as `@azure/identity`'s: with a client secret
 * `(tenantId, clientId, clientSecret, authorizationCode, redirectUri, options?)`, or without one
 * `(tenantId, clientId, authorizationCode, redirectUri, options?)` for a public client or with
 * `options.clientAuthentication` (certificate, assertion). `options.codeVerifier` carries PKCE.
 *
 * The code, the verifier, the secret and every token stay in private fields and closures: never in a
 * message, event or `util.inspect` output.
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for an empty argument or bad option.
 * @throws AzcredError from `getToken`: AZCRED_TOKEN_REQUEST_FAILED (AADSTS54005 code already
 * redeemed, 70008 expired, 501481 wrong verifier, 500112 redirect URI mismatch, ...),
 * AZCRED_INTERACTION_REQUIRED when the refresh token is dead and the code already used.
 * @example
 * const credential = new AuthorizationCodeCredential(tenantId, clientId, clientSecret, code, redirectUri, { codeVerifier })
 * const { token } = await credential.getToken('https://graph.microsoft.com/User.Read')
 * @public
 */
export class AuthorizationCodeCredential implements TokenCredential {
  readonly #lifecycle: UserTokenLifecycle
  /** The persistent cache being loaded (tokenCachePersistenceOptions); undefined without one. */
  readonly #ready: Promise<void> | undefined

  /** A confidential client with a client secret. */
  constructor(
    tenantId: string,
    clientId: string,
    clientSecret: string,
    authorizationCode: string,
    redirectUri: string,
    options?: AuthorizationCodeCredentialOptions,
  )
  /** A public client, or a confidential one with `options.clientAuthentication`. */
  constructor(tenantId: string, clientId: string, authorizationCode: string, redirectUri: string, options?: AuthorizationCodeCredentialOptions)
  constructor(
    tenantId: string,
    clientId: string,
    secretOrCode: string,
    codeOrRedirectUri: string,
    redirectUriOrOptions?: string | AuthorizationCodeCredentialOptions,
    maybeOptions?: AuthorizationCodeCredentialOptions,
  ) {
    const withSecret = typeof redirectUriOrOptions === 'string'
    const options: AuthorizationCodeCredentialOptions = (withSecret ? maybeOptions : redirectUriOrOptions) ?? {}
    assertConfig(typeof options === 'object' && options !== null, 'options must be an object')
    const clientSecret = withSecret ? secretOrCode : undefined
    let code: string | undefined = withSecret ? codeOrRedirectUri : secretOrCode
    const redirectUri = withSecret ? (redirectUriOrOptions as string) : codeOrRedirectUri
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    assertNonEmpty(code, 'authorizationCode', 'pass the code your redirect URI received')
    assertNonEmpty(redirectUri, 'redirectUri', 'pass the redirect URI the authorize request used (it must match exactly)')
    if (withSecret) assertNonEmpty(clientSecret, 'clientSecret', 'pass the secret Value from the app registration (Certificates & secrets)')
    const { codeVerifier, fetch, timeoutMs } = options
    assertConfig(codeVerifier === undefined || (typeof codeVerifier === 'string' && codeVerifier !== ''), 'codeVerifier must be a non-empty string')
    assertConfig(
      options.clientAuthentication === undefined || typeof options.clientAuthentication?.formFields === 'function',
      'clientAuthentication must be a ClientAuthentication (clientCertificateAuthentication(...), clientAssertionAuthentication(...))',
    )
    assertConfig(!(withSecret && options.clientAuthentication), 'pass either a clientSecret argument or options.clientAuthentication, not both')
    const authorityHost = resolveAuthorityHost(options)
    // The secret lives only in this closure (as clientSecretAuthentication does; not imported, to keep the bundle small).
    const clientAuthentication: ClientAuthentication | undefined =
      clientSecret !== undefined ? { formFields: () => ({ client_secret: clientSecret }), hints: SECRET_HINTS } : options.clientAuthentication

    const { tokenCache, ready } = resolveTokenCache(options.tokenCache, options.tokenCachePersistenceOptions)
    this.#ready = ready
    this.#lifecycle = new UserTokenLifecycle({
      ...lifecycleOptions(options),
      credentialName: 'AuthorizationCodeCredential',
      tenantId,
      clientId,
      authorityHost,
      additionallyAllowedTenants: options.additionallyAllowedTenants,
      authenticationRecord: options.authenticationRecord,
      disableAutomaticAuthentication: options.disableAutomaticAuthentication,
      tokenCache,
      clientAuthentication,
      fetch,
      // The code is redeemed once: forgotten as it is sent, whatever the answer (Entra refuses a second use, AADSTS54005).
      interactive: async (request): Promise<TokenResponse> => {
        const once = code
        code = undefined
        if (once === undefined) {
          throw new InteractionRequiredError(
            'AuthorizationCodeCredential: the authorization code was already redeemed and no refresh token serves this request: sign the user in again and create a credential with the new code',
          )
        }
        return requestTokenGrant({
          authorityHost,
          clientId,
          request,
          grant: {
            grant_type: 'authorization_code',
            code: once,
            redirect_uri: redirectUri,
            ...(codeVerifier !== undefined ? { code_verifier: codeVerifier } : {}),
            client_info: '1',
          },
          clientAuthentication,
          fetch,
          timeoutMs,
          abortSignal: request.abortSignal,
        })
      },
    })
  }

  /**
   * A token for the scopes: the code's redemption the first time, then memory, the `tokenCache` and the refresh token.
   * @throws AzcredError see the class documentation.
   */
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#ready) await this.#ready
    return this.#lifecycle.getToken(scopes, options)
  }

  /** The signed-in account once the code was redeemed (undefined before). */
  get authenticationRecord(): AuthenticationRecord | undefined {
    return this.#lifecycle.authenticationRecord
  }
}
