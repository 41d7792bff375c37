/**
 * Stable error codes. Branch on these, never on messages.
 * @public
 */
export type AzcredErrorCode =
  /** Options or environment are wrong; the message names what to change. Stops a chain. */
  | 'AZCRED_CONFIG_INVALID'
  /**
   * This source does not exist here (variables absent, no endpoint). The only code a chain skips; its
   * error is named `CredentialUnavailableError`, as `@azure/identity`'s chain expects.
   */
  | 'AZCRED_SOURCE_UNAVAILABLE'
  /** The token endpoint answered with an error; see `TokenRequestError` for its fields. */
  | 'AZCRED_TOKEN_REQUEST_FAILED'
  /** The endpoint answered, but not with what the protocol promises (HTML, broken JSON, no token). */
  | 'AZCRED_RESPONSE_INVALID'
  /** The request could not be sent or its answer not read (refused, reset, DNS). */
  | 'AZCRED_NETWORK_ERROR'
  /** The request took longer than its timeout. */
  | 'AZCRED_TIMEOUT'
  /** The caller's `abortSignal` fired. */
  | 'AZCRED_ABORTED'
  /**
   * A signed-in user's tokens cannot be had silently: the refresh token expired or was revoked, consent
   * or multi-factor authentication is needed, or a silent-only call (`disableAutomaticAuthentication`, a
   * background refresh) found no usable sign-in. See {@link InteractionRequiredError} for its fields.
   */
  | 'AZCRED_INTERACTION_REQUIRED'
  /** The user declined or cancelled the sign-in (a denied device code, a closed or refused browser prompt). */
  | 'AZCRED_AUTHENTICATION_CANCELLED'

/**
 * The codes whose errors carry no fields beyond `AzcredError`'s.
 * @public
 */
export type PlainAzcredErrorCode = Exclude<AzcredErrorCode, 'AZCRED_TOKEN_REQUEST_FAILED' | 'AZCRED_INTERACTION_REQUIRED'>

const AZCRED_ERROR = Symbol.for('azcred.error')

/**
 * The one error type azcred throws. `code` is stable; the message says what failed and how to fix
 * it, and never contains a secret. `AzcredError.isInstance` narrows to {@link AnyAzcredError}, so
 * comparing `code` then narrows to the class with that code's fields.
 *
 * @example
 * try { await credential.getToken(scope) } catch (error) {
 *   if (AzcredError.isInstance(error) && error.code === 'AZCRED_SOURCE_UNAVAILABLE') { ... }
 * }
 * @public
 */
export class AzcredError<Code extends AzcredErrorCode = AzcredErrorCode> extends Error {
  /** The stable code. */
  declare readonly code: Code
  /** `false` when retrying cannot help (DNS "no such name", TLS certificate, a redirect); present only when set. */
  declare readonly retryable?: boolean

  /**
   * @param options `cause`; `retryable`, which becomes an own `retryable` property only when given.
   * An `AZCRED_SOURCE_UNAVAILABLE` error is named `CredentialUnavailableError`, so `@azure/identity`'s
   * `ChainedTokenCredential` moves on to its next credential; any other is named `AzcredError`.
   */
  constructor(code: Code, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options)
    this.code = code
    this.name = code === 'AZCRED_SOURCE_UNAVAILABLE' ? 'CredentialUnavailableError' : 'AzcredError'
    if (options && 'retryable' in options) (this as { retryable?: boolean }).retryable = options.retryable
  }

  /**
   * True for any azcred error, also one thrown by another installed copy of azcred. Narrows to
   * {@link AnyAzcredError}: `error.code === 'AZCRED_TOKEN_REQUEST_FAILED'` then gives a `TokenRequestError`.
   */
  static isInstance(value: unknown): value is AnyAzcredError {
    return (value as Record<symbol, unknown> | null | undefined)?.[AZCRED_ERROR] === true
  }

  /** What `JSON.stringify` shows: the name, message and the error's own fields (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, ...(this as object) }
  }
}
// The brand isInstance reads: on the prototype (never an own field), and kept out of the declared type.
;(AzcredError.prototype as unknown as Record<symbol, boolean>)[AZCRED_ERROR] = true

/**
 * The fields kept from an Entra ID error answer; never its raw body or the request.
 * @public
 */
export interface TokenRequestErrorDetails {
  /** HTTP status of the answer. */
  status: number
  /** OAuth `error`, such as `invalid_client`. */
  error?: string | undefined
  /** Entra's numeric `error_codes`, such as `[7000215]`. */
  errorCodes?: number[] | undefined
  /** Entra's request id, for support cases. */
  traceId?: string | undefined
  /** The correlation id, for support cases. */
  correlationId?: string | undefined
  /** `Retry-After`, converted to milliseconds, when the answer had one. */
  retryAfterMs?: number | undefined
  /** `claims` on an `interaction_required` answer (a challenge, not a secret). */
  claims?: string | undefined
}

/**
 * `AZCRED_TOKEN_REQUEST_FAILED`: the endpoint refused or failed the token request.
 * @public
 */
export class TokenRequestError extends AzcredError<'AZCRED_TOKEN_REQUEST_FAILED'> {
  /** HTTP status of the answer (a 3xx or 0 for a redirect, which is never followed). */
  declare readonly status: number
  declare readonly error: string | undefined
  declare readonly errorCodes: number[]
  /** The first Entra code as `AADSTSnnnn`, or undefined. */
  declare readonly aadstsCode: string | undefined
  declare readonly traceId: string | undefined
  declare readonly correlationId: string | undefined
  declare readonly retryAfterMs: number | undefined
  declare readonly claims: string | undefined

  /** @param options as `AzcredError`'s: `cause`, and `retryable` (`false` for a redirect). */
  constructor(message: string, details: TokenRequestErrorDetails, options?: { cause?: unknown; retryable?: boolean }) {
    super('AZCRED_TOKEN_REQUEST_FAILED', message, options)
    this.name = 'TokenRequestError'
    Object.assign(this, { errorCodes: [] }, details)
    const [first] = this.errorCodes
    this.aadstsCode = first === undefined ? undefined : `AADSTS${first}`
  }
}

/**
 * `AZCRED_INTERACTION_REQUIRED`: a user must act before a token can be had. Made by
 * {@link toInteractionRequired} from Entra's refusal (whose fields it keeps for diagnosis, and which is
 * its `cause`), or by a user credential whose silent path has nothing to redeem.
 * @public
 */
export class InteractionRequiredError extends AzcredError<'AZCRED_INTERACTION_REQUIRED'> {
  /** Entra's claims challenge (JSON), when it sent one: pass it to `getToken(scopes, { claims })` when signing in again. Not a secret. */
  declare readonly claims?: string
  /** Entra's numeric `error_codes`; empty when there was no Entra answer. */
  declare readonly errorCodes: number[]
  /** The first Entra code as `AADSTSnnnn`, when there is one. */
  declare readonly aadstsCode?: string
  /** HTTP status of Entra's answer, when there was one. */
  declare readonly status?: number
  /** OAuth `error` of Entra's answer, such as `invalid_grant`. */
  declare readonly error?: string
  /** Entra's request id, for support cases. */
  declare readonly traceId?: string
  /** The correlation id, for support cases. */
  declare readonly correlationId?: string

  /** @param details Entra's answer's fields, when there was one; `cause` its `TokenRequestError`. */
  constructor(message: string, details?: Partial<Omit<TokenRequestErrorDetails, 'retryAfterMs'>>, options?: { cause?: unknown }) {
    super('AZCRED_INTERACTION_REQUIRED', message, options)
    this.name = 'InteractionRequiredError'
    Object.assign(this, { errorCodes: [] }, details)
    const [first] = this.errorCodes
    if (first !== undefined) this.aadstsCode = `AADSTS${first}`
  }
}

/**
 * Every azcred error, as a union discriminated by `code`: what `AzcredError.isInstance` narrows to.
 * @public
 */
export type AnyAzcredError = TokenRequestError | InteractionRequiredError | AzcredError<PlainAzcredErrorCode>

// Entra codes that only the user can fix by signing in again: an expired, revoked or idle refresh token
// (70008, 50173, 700082, 700084 single-page app; 50132, 50133 after a password change), consent (65001),
// multi-factor authentication or registration (50076, 50078, 50079, 50158). PROTOCOL.md, "Refresh tokens".
const CONSENT = [65001]
const SIGN_IN_AGAIN = [70008, 50173, 700082, 700084, 50132, 50133]
const MFA = [50076, 50078, 50079, 50158]
// Signing in again cannot help: blocked by Conditional Access (53003), account locked (50053) or disabled
// (50057), user not assigned to the app (50105); and on-behalf-of, an incoming user assertion that is
// invalid (50013, 50027), expired or not yet valid (500133) or for another audience (500131): the API's
// caller must send a valid token, no sign-in here fixes it. These stay `AZCRED_TOKEN_REQUEST_FAILED`.
// Nor the app's own credentials: a wrong (7000215), expired (7000222) or missing (7000218) client secret,
// an assertion expired (700024), badly signed (700027, 50012) or matching no federated credential (70021,
// 700211, 700212, 700213), an app not found (700016): whatever `error` says, and so is `invalid_client`.
const BLOCKED = [
  53003, 50053, 50057, 50105, 50013, 50027, 500133, 500131, 7000215, 7000222, 7000218, 700024, 700027, 50012, 70021, 700211, 700212, 700213, 700016,
]
const INTERACTION_ERRORS = /^(invalid_grant|interaction_required|consent_required|login_required)$/

/**
 * Turns an Entra refusal that means "the user must sign in again" into an {@link InteractionRequiredError}
 * carrying Entra's `claims`, status, `error` and codes (its `cause` is the refusal, which holds no secret):
 * OAuth `error` `invalid_grant`, `interaction_required`, `consent_required` or `login_required`, or an Entra
 * code among 70008, 50173, 700082, 700084, 50132, 50133 (expired or revoked sign-in), 65001 (consent),
 * 50076, 50078, 50079, 50158 (multi-factor authentication). Codes 53003 (Conditional Access block), 50053,
 * 50057 and 50105 (account locked, disabled or not assigned), and the on-behalf-of refusals of the incoming
 * user assertion 50013, 50027, 500133 and 500131 (the API's caller must send a valid token) are not:
 * signing in here cannot fix them; nor is a refusal of the app's own credentials (OAuth `invalid_client`, or
 * codes 7000215, 7000222, 7000218, 700024, 700027, 50012, 70021, 700211, 700212, 700213, 700016).
 * Anything else, an `InteractionRequiredError` included, is returned as it is.
 * @example
 * try { return await redeemRefreshToken() } catch (error) { throw toInteractionRequired(error) }
 * @internal For azcred's own packages; not covered by semver.
 */
export function toInteractionRequired(error: unknown): unknown {
  if (!AzcredError.isInstance(error) || error.code !== 'AZCRED_TOKEN_REQUEST_FAILED') return error
  const { errorCodes, status, traceId, correlationId, claims } = error
  // Entra's error is a word (`invalid_grant`); anything else is not shown.
  const oauthError = /^\w{1,64}$/.test(error.error as string) ? error.error : undefined
  const codes = errorCodes ?? []
  const has = (list: number[]): boolean => codes.some((code) => list.includes(code))
  if (has(BLOCKED) || oauthError === 'invalid_client' || !(INTERACTION_ERRORS.test(oauthError as string) || has(CONSENT) || has(SIGN_IN_AGAIN) || has(MFA)))
    return error
  const why =
    has(CONSENT) || oauthError === 'consent_required'
      ? 'the user has not consented to these scopes: sign in interactively and consent, or ask an administrator to grant consent'
      : has(SIGN_IN_AGAIN) || (oauthError === 'invalid_grant' && !has(MFA) && !claims)
        ? 'the sign-in expired or was revoked: sign in again (authenticate(), or getToken without disableAutomaticAuthentication)'
        : 'Entra ID asks for multi-factor authentication or another interactive step: sign in interactively, passing the claims of this error (getToken options.claims)'
  const code = error.aadstsCode ? `, ${error.aadstsCode}` : ''
  return new InteractionRequiredError(
    `interaction required (HTTP ${status} ${oauthError ?? 'error'}${code}): ${why}`,
    { status, error: oauthError, errorCodes: codes, traceId, correlationId, claims },
    { cause: error },
  )
}

/**
 * The system code of a local error (`ENOENT`, `ECONNREFUSED`, `ERR_INVALID_ARG_VALUE`), or undefined:
 * what a message may name instead of the error's own message, which can quote a path, URL or secret.
 * @internal For azcred's own packages; not covered by semver.
 */
export function systemErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && /^E(RR_)?[A-Z_]{2,40}$/.test(code) ? code : undefined
}
