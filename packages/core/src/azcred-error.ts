/** Stable error codes. Branch on these, never on messages. */
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

const AZCRED_ERROR = Symbol.for('azcred.error')

/**
 * The one error type azcred throws. `code` is stable; the message says what failed and how to fix
 * it, and never contains a secret.
 *
 * @example
 * try { await credential.getToken(scope) } catch (error) {
 *   if (AzcredError.isInstance(error) && error.code === 'AZCRED_SOURCE_UNAVAILABLE') { ... }
 * }
 */
export class AzcredError extends Error {
  /** The stable code. */
  declare readonly code: AzcredErrorCode
  /** `false` when retrying cannot help (DNS "no such name", TLS certificate, a redirect); present only when set. */
  declare readonly retryable?: boolean

  /**
   * @param options `cause`; `retryable`, which becomes an own `retryable` property only when given.
   * An `AZCRED_SOURCE_UNAVAILABLE` error is named `CredentialUnavailableError`, so `@azure/identity`'s
   * `ChainedTokenCredential` moves on to its next credential; any other is named `AzcredError`.
   */
  constructor(code: AzcredErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options)
    this.code = code
    this.name = code === 'AZCRED_SOURCE_UNAVAILABLE' ? 'CredentialUnavailableError' : 'AzcredError'
    if (options && 'retryable' in options) (this as { retryable?: boolean }).retryable = options.retryable
  }

  /** True for any azcred error, also one thrown by another installed copy of azcred. */
  static isInstance(value: unknown): value is AzcredError {
    return (value as Record<symbol, unknown> | null | undefined)?.[AZCRED_ERROR] === true
  }

  /** What `JSON.stringify` shows: the name, message and the error's own fields (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, ...(this as object) }
  }
}
// The brand isInstance reads: on the prototype (never an own field), and kept out of the declared type.
;(AzcredError.prototype as unknown as Record<symbol, boolean>)[AZCRED_ERROR] = true

/** The fields kept from an Entra ID error answer; never its raw body or the request. */
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

/** `AZCRED_TOKEN_REQUEST_FAILED`: the endpoint refused or failed the token request. */
export class TokenRequestError extends AzcredError {
  declare readonly status: number
  declare readonly error: string | undefined
  declare readonly errorCodes: number[]
  /** The first Entra code as `AADSTSnnnn`, or undefined. */
  declare readonly aadstsCode: string | undefined
  declare readonly traceId: string | undefined
  declare readonly correlationId: string | undefined
  declare readonly retryAfterMs: number | undefined
  declare readonly claims: string | undefined

  constructor(message: string, details: TokenRequestErrorDetails) {
    super('AZCRED_TOKEN_REQUEST_FAILED', message)
    this.name = 'TokenRequestError'
    Object.assign(this, { errorCodes: [] }, details)
    const [first] = this.errorCodes
    this.aadstsCode = first === undefined ? undefined : `AADSTS${first}`
  }
}

/**
 * The system code of a local error (`ENOENT`, `ECONNREFUSED`, `ERR_INVALID_ARG_VALUE`), or undefined:
 * what a message may name instead of the error's own message, which can quote a path, URL or secret.
 */
export function systemErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && /^E(RR_)?[A-Z_]{2,40}$/.test(code) ? code : undefined
}
