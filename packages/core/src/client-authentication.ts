import type { TokenRequestError } from './azcred-error'
import type { AbortSignalLike } from './token-credential'

/**
 * What a {@link ClientAuthentication} is asked for: the request its form fields will travel with.
 * @public
 */
export interface ClientAuthenticationContext {
  /** The tenant the request goes to (a validated tenant id). */
  tenantId: string
  /** The normalised authority host, such as `https://login.microsoftonline.com`. */
  authorityHost: string
  /**
   * The application (client) id of the request: a certificate assertion's `iss` and `sub`. Added to
   * the contract's context by the token endpoint owner, so one value serves any client id.
   */
  clientId: string
  /** True when Entra refused the previous fields with a code in `refreshOn`: make new ones, reuse nothing. */
  forceRefresh: boolean
  /** The caller's signal: an assertion source may pass it on. */
  abortSignal?: AbortSignalLike | undefined
}

/**
 * How a confidential client proves itself, as a value any grant can compose (client credentials,
 * on-behalf-of, authorization-code and refresh-token redemption): `@azcred/client-secret`'s
 * `clientSecretAuthentication`, `@azcred/client-certificate`'s `clientCertificateAuthentication`,
 * `@azcred/client-assertion`'s `clientAssertionAuthentication`. Pass it as `clientAuthentication` to
 * `requestTokenGrant`. Its fields are secrets: the token request sends them and never shows them.
 *
 * @example
 * const response = await requestTokenGrant({ authorityHost, clientId, request,
 *   grant: { grant_type: 'refresh_token', refresh_token: refreshToken }, clientAuthentication: clientSecretAuthentication(secret) })
 * @public
 */
export interface ClientAuthentication {
  /** The form fields: `{ client_secret }` or `{ client_assertion_type, client_assertion }`. */
  formFields(context: ClientAuthenticationContext): Promise<Record<string, string>> | Record<string, string>
  /** Fix hints for the AADSTS codes only this kind of client authentication meets, by numeric code. */
  hints?: Record<number, string> | undefined
  /**
   * Text appended (after `; `) to a refusal's message, such as the issuer, subject and audience an
   * assertion presented. It must never contain a secret; undefined adds nothing.
   */
  describeRefusal?(error: TokenRequestError, fields: Record<string, string>): string | undefined
  /**
   * AADSTS codes (numbers) after which the fields are made again with `forceRefresh` and the request
   * sent once more (client-assertion: 700024, an expired assertion). Once only.
   */
  refreshOn?: readonly number[] | undefined
}
