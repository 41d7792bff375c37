import type { AzcredErrorCode } from './azcred-error'

/**
 * What every event says about the request it concerns. Never a token or a secret.
 * @public
 */
export interface TokenEventBase {
  /** The credential, such as `ClientSecretCredential`. */
  credential: string
  /** The scopes asked for. */
  scopes: readonly string[]
  /** The tenant used. */
  tenantId: string
  /** When the event happened, ms since the epoch. */
  at: number
}

/**
 * Typed lifecycle events; pass `onEvent` to a credential to receive them.
 * @public
 */
export type TokenEvent =
  /** A caller had no valid token and one was obtained. */
  | (TokenEventBase & { type: 'acquired'; durationMs: number; attempts: number; expiresOnTimestamp: number; refreshAtTimestamp: number })
  /** A background refresh replaced a still-valid token. */
  | (TokenEventBase & { type: 'refreshed'; durationMs: number; expiresOnTimestamp: number; refreshAtTimestamp: number })
  /** A background refresh failed; the old token keeps being served until `nextAttemptAt` or expiry. */
  | (TokenEventBase & {
      type: 'refresh-failed'
      /** The error's code; `UNKNOWN` for an error that is not an azcred error. */
      code: AzcredErrorCode | 'UNKNOWN'
      status?: number
      aadstsCode?: string
      nextAttemptAt: number
      validUntil: number
    })
  /** A transient failure; another attempt follows after `delayMs`. */
  | (TokenEventBase & { type: 'retry-scheduled'; attempt: number; delayMs: number; code: AzcredErrorCode | 'UNKNOWN'; status?: number })
  /** The endpoint answered 429; no request is sent before `until` (`Retry-After`, at most 60 s; a success ends it sooner). */
  | (TokenEventBase & { type: 'throttled'; retryAfterMs: number; until: number })
  /**
   * The configured `tokenCache` held a valid token, so no request was sent: on a caller's first call
   * (memory empty) or a background refresh (another instance already refreshed it).
   */
  | (TokenEventBase & { type: 'cache-hit'; durationMs: number; attempts: 0; expiresOnTimestamp: number; refreshAtTimestamp: number })
  /**
   * The configured `tokenCache` threw, rejected, or took longer than `TOKEN_CACHE_TIMEOUT_MS` to `read`
   * or `write`; the token request went on without it (`reason`: `failed` or `timeout`; never the error's text).
   */
  | (TokenEventBase & { type: 'cache-error'; operation: 'read' | 'write'; reason: 'failed' | 'timeout' })

/**
 * Receives events. Exceptions it throws are ignored.
 * @public
 */
export type TokenEventListener = (event: TokenEvent) => void
