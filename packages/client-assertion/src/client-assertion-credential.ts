import {
  type AbortSignalLike,
  type AccessToken,
  AzcredError,
  assertNonEmpty,
  assertTenantId,
  DEFAULT_TOKEN_EXCHANGE_AUDIENCE,
  describeJwtSubject,
  type EntraCredentialOptions,
  type FederatedTokenProvider,
  type GetTokenOptions,
  JWT_BEARER_ASSERTION_TYPE,
  requestClientCredentialsToken,
  resolveAuthorityHost,
  serverText,
  type TokenCredential,
  TokenLifecycle,
  TokenRequestError,
} from '@azcred/core'

/** Where assertions come from: a function (as in `@azure/identity`) or a federated token provider. */
export type AssertionSource = (() => string | Promise<string>) | FederatedTokenProvider

/** Options of {@link ClientAssertionCredential}. */
export interface ClientAssertionCredentialOptions extends EntraCredentialOptions {
  /**
   * Audience asked of a `FederatedTokenProvider`. Default: `cloud.tokenExchangeAudience`, else
   * `api://AzureADTokenExchange`.
   */
  audience?: string
}

const EXPIRED_ASSERTION = 700024
const SUBJECT_MISMATCH = new Set([70021, 700211, 700212, 700213])

// What to do about the refusals only an assertion meets.
const ASSERTION_HINTS: Record<number, string> = {
  700024: 'the assertion is expired or not yet valid: the source must return a fresh token; check the clock',
  70021: 'no federated identity credential matches the assertion: compare its issuer, subject and audience',
  700211: 'no federated identity credential has this issuer: copy the issuer below into the credential',
  700212: 'no federated identity credential has this audience: use the audience below, or change the provider audience',
  700213: 'no federated identity credential has this subject: copy the subject below into the credential',
  70023: 'the external token lives longer than one day and one hour: issue shorter-lived tokens',
  700027: 'the assertion signature is not valid for the registered key or issuer',
}

/**
 * App-only tokens from a client assertion (OAuth 2.0 client credentials with `client_assertion`):
 * a federated token from another identity provider, or a JWT you sign. Same name and constructor as
 * `@azure/identity`'s; also accepts any `FederatedTokenProvider`. An assertion Entra refuses as
 * expired (AADSTS700024) is fetched again (with `forceRefresh`) and the request retried once.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed tenant id, an empty
 * client id, or a source that is neither a function nor a provider.
 * @throws AzcredError from `getToken`: AZCRED_TOKEN_REQUEST_FAILED (a subject mismatch names the
 * presented issuer, subject and audience), the source's own errors, and the transport codes.
 * @example
 * const credential = new ClientAssertionCredential(tenantId, clientId, async () => readMyOidcToken())
 */
export class ClientAssertionCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle

  constructor(tenantId: string, clientId: string, source: AssertionSource, options: ClientAssertionCredentialOptions = {}) {
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    const getAssertion = toAssertionGetter(source, options.audience ?? options.cloud?.tokenExchangeAudience ?? DEFAULT_TOKEN_EXCHANGE_AUDIENCE)
    const authorityHost = resolveAuthorityHost(options)
    const { fetch, timeoutMs } = options
    this.#lifecycle = new TokenLifecycle({
      ...options,
      credentialName: 'ClientAssertionCredential',
      appOnly: true, // common, organizations and consumers cannot issue app-only tokens
      tenantId,
      fetchToken: async (request) => {
        const exchange = async (forceRefresh: boolean): Promise<AccessToken> => {
          const assertion = await getAssertion(forceRefresh, request.abortSignal)
          try {
            return await requestClientCredentialsToken({
              authorityHost,
              clientId,
              request,
              clientAuthentication: { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion },
              fetch,
              timeoutMs,
              hints: ASSERTION_HINTS,
            })
          } catch (error) {
            if (error instanceof TokenRequestError && error.errorCodes.some((code) => SUBJECT_MISMATCH.has(code))) {
              // The claims come from another identity provider: capped and stripped like any server string.
              throw new TokenRequestError(`${error.message}; the assertion presented ${serverText(describeJwtSubject(assertion), 400)}`, error)
            }
            throw error
          }
        }
        try {
          return await exchange(false)
        } catch (error) {
          if (error instanceof TokenRequestError && error.errorCodes.includes(EXPIRED_ASSERTION)) return exchange(true)
          throw error
        }
      },
    })
  }

  /**
   * A token for the scopes, from the shared lifecycle engine (cache, single-flight, refresh, retry).
   * @throws AzcredError see the class documentation.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.#lifecycle.getToken(scopes, options)
  }
}

function toAssertionGetter(source: AssertionSource, audience: string): (forceRefresh: boolean, abortSignal?: AbortSignalLike) => Promise<string> {
  const check = (assertion: unknown): string => {
    if (typeof assertion !== 'string' || assertion.trim() === '') {
      throw new AzcredError('AZCRED_RESPONSE_INVALID', 'the assertion source returned an empty value: it must return a JWT string')
    }
    return assertion
  }
  if (typeof source === 'function') return async () => check(await source())
  if (typeof source === 'object' && source !== null && typeof source.getFederatedToken === 'function') {
    return async (forceRefresh, abortSignal) => check(await source.getFederatedToken({ audience, forceRefresh, abortSignal }))
  }
  throw new AzcredError('AZCRED_CONFIG_INVALID', 'getAssertion must be a function returning a JWT, or a FederatedTokenProvider')
}
