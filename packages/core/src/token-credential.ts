/**
 * The credential contract, structurally identical to `@azure/core-auth`'s, so an azcred
 * credential can be handed to any official Azure SDK client.
 */

/**
 * The part of `AbortSignal` azcred relies on; a real `AbortSignal` satisfies it.
 * @public
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * An access token and when it stops being valid.
 * @public
 */
export interface AccessToken {
  /** The bearer token. Treat it as a secret. */
  token: string
  /** When the token expires, in milliseconds since the Unix epoch. */
  expiresOnTimestamp: number
  /** When the token should be refreshed, in milliseconds since the Unix epoch (Entra's `refresh_in`). */
  refreshAfterTimestamp?: number
  /** `Bearer` for every flow azcred implements. */
  tokenType?: 'Bearer' | 'pop'
}

/**
 * Per-call options, the same names as `@azure/core-auth`'s `GetTokenOptions`.
 * @public
 */
export interface GetTokenOptions {
  /**
   * Ends this caller's wait with `AZCRED_ABORTED`. A request shared by several callers is itself
   * aborted (socket and retries) only when every one of them has left. A valid cached token is
   * returned even when the signal has already fired.
   */
  abortSignal?: AbortSignalLike
  /** A tenant other than the configured one; refused unless listed in `additionallyAllowedTenants`. */
  tenantId?: string
  /** A claims challenge (JSON, as decoded from `WWW-Authenticate`); bypasses the cache (a blank string counts as none). Concurrent calls with the same claims share one request. */
  claims?: string
  /** Ask for a token that supports Continuous Access Evaluation. */
  enableCae?: boolean
  /**
   * Per-call settings: `timeout`, how long this caller waits, in milliseconds (1 to 600 000); then this
   * caller alone gets `AZCRED_TIMEOUT`. The request shared with other callers keeps the credential's
   * `timeoutMs`. An out-of-range value is a rejected `AZCRED_CONFIG_INVALID`.
   */
  requestOptions?: { timeout?: number }
  /** Accepted for compatibility with `@azure/core-auth`; azcred does not trace. */
  tracingOptions?: unknown
}

/**
 * Anything that can produce an access token for a set of scopes.
 * @public
 */
export interface TokenCredential {
  /**
   * Gets an access token for the scopes (for example `https://management.azure.com/.default`).
   * Compatible with `@azure/core-auth`, whose signature allows `null`; azcred never returns it.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>
}
