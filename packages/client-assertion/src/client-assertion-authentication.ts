import {
  type AbortSignalLike,
  AzcredError,
  type ClientAuthentication,
  DEFAULT_TOKEN_EXCHANGE_AUDIENCE,
  describeJwtSubject,
  type FederatedTokenProvider,
  JWT_BEARER_ASSERTION_TYPE,
  serverText,
} from '@azcred/core'

/** Where assertions come from: a function (as in `@azure/identity`) or a federated token provider. */
export type AssertionSource = (() => string | Promise<string>) | FederatedTokenProvider

/** Options of {@link clientAssertionAuthentication}. */
export interface ClientAssertionAuthenticationOptions {
  /**
   * Audience asked of a `FederatedTokenProvider`. Default: `cloud.tokenExchangeAudience`, else
   * `api://AzureADTokenExchange`.
   */
  audience?: string | undefined
  /** A cloud from `@azcred/clouds`: its `tokenExchangeAudience` is the default audience. */
  cloud?: { tokenExchangeAudience?: string } | undefined
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
 * A client assertion as a {@link ClientAuthentication}: `client_assertion_type` (jwt-bearer) and
 * `client_assertion` from the source (a function, or a `FederatedTokenProvider` asked for `audience`
 * with the request's `forceRefresh` and `abortSignal`). An assertion Entra refuses as expired
 * (AADSTS700024) is fetched again with `forceRefresh` and the request sent once more (`refreshOn`); a
 * federated-credential mismatch (AADSTS70021, 700211, 700212, 700213) names the issuer, subject and
 * audience the assertion presented (capped, control characters stripped), never the assertion. Any
 * grant composes it: client credentials, on-behalf-of, authorization-code redemption.
 * @throws AzcredError AZCRED_CONFIG_INVALID when `source` is neither a function nor a provider; from
 * `formFields`, AZCRED_RESPONSE_INVALID when the source returns an empty value, and the source's own errors.
 * @example
 * const clientAuthentication = clientAssertionAuthentication(async () => readMyOidcToken())
 */
export function clientAssertionAuthentication(source: AssertionSource, options: ClientAssertionAuthenticationOptions = {}): ClientAuthentication {
  const getAssertion = toAssertionGetter(source, options.audience ?? options.cloud?.tokenExchangeAudience ?? DEFAULT_TOKEN_EXCHANGE_AUDIENCE)
  return {
    formFields: async ({ forceRefresh, abortSignal }) => ({
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: await getAssertion(forceRefresh, abortSignal),
    }),
    hints: ASSERTION_HINTS,
    refreshOn: [EXPIRED_ASSERTION],
    // The claims come from another identity provider: capped and stripped like any server string.
    describeRefusal: (error, fields) =>
      error.errorCodes.some((code) => SUBJECT_MISMATCH.has(code))
        ? `the assertion presented ${serverText(describeJwtSubject(fields.client_assertion ?? ''), 400)}`
        : undefined,
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
