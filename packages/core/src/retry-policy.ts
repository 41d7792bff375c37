import { AzcredError, type TokenRequestError } from './azcred-error'

/**
 * Retry settings for transient failures (network errors, timeouts, 429, 5xx). Each is checked when
 * the credential is built: a number in the range given, else AZCRED_CONFIG_INVALID.
 * @public
 */
export interface RetryOptions {
  /** Attempts in all, the first included: 1 to 100. Default 10. */
  maxAttempts?: number
  /**
   * Time budget of a caller's request, all attempts and waits, in milliseconds: 0 to 86 400 000.
   * Default 15 000. When the server's `Retry-After` reaches past it, the call fails at once.
   */
  maxElapsedMs?: number
  /** First backoff ceiling, in milliseconds (0 to 86 400 000); doubles per attempt. Default 500. */
  baseDelayMs?: number
  /** Largest backoff ceiling, in milliseconds (0 to 86 400 000). Default 30 000. */
  maxDelayMs?: number
}

/**
 * The official spelling (`@azure/core-rest-pipeline`), mapped onto {@link RetryOptions}; `retry` wins where both are given.
 * @public
 */
export interface RetryPolicyOptions {
  /** Retries after the first attempt, 0 to 99: `maxAttempts` = `maxRetries + 1`. */
  maxRetries?: number
  /** The first backoff ceiling, ms: `baseDelayMs`. */
  retryDelayInMs?: number
  /** The largest backoff ceiling, ms: `maxDelayMs`. */
  maxRetryDelayInMs?: number
}

/**
 * A caller gives up within about 15 s against an endpoint that keeps failing. Frozen: shared by every credential without retry options.
 * @public
 */
export const DEFAULT_RETRY: Readonly<Required<RetryOptions>> = /* @__PURE__ */ Object.freeze({
  maxAttempts: 10,
  maxElapsedMs: 15_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
})

/**
 * True for failures worth another attempt: network errors, timeouts, and 408, 429 or 5xx answers,
 * unless the error says `retryable: false` (DNS "no such name", a TLS certificate, a redirect).
 * Entra's credential and configuration refusals (invalid_client, unknown app or tenant, bad scope)
 * come as 400/401 and are never retried.
 * @internal For azcred's own packages; not covered by semver.
 */
export function isTransient(error: unknown): boolean {
  if (!AzcredError.isInstance(error) || (error as { retryable?: boolean }).retryable === false) return false
  if (error.code === 'AZCRED_NETWORK_ERROR' || error.code === 'AZCRED_TIMEOUT') return true
  const status = (error as Partial<TokenRequestError>).status
  // An undefined status fails every comparison.
  return status === 408 || status === 429 || (status as number) >= 500
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): "equal jitter" over an exponential
 * ceiling, so between half the ceiling and the ceiling, or the server's `Retry-After` when it asked
 * for longer.
 */
export function backoffDelay(attempt: number, retry: Required<RetryOptions>, random: () => number, retryAfterMs = 0): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1))
  return Math.max(retryAfterMs, Math.floor((ceiling * (1 + random())) / 2))
}
