import { AzcredError, type TokenRequestError } from './azcred-error'

/** Retry settings for transient failures (network errors, timeouts, 429, 5xx). */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 10. */
  maxAttempts?: number
  /** Time budget for all attempts and waits, in milliseconds. Default 60 000. */
  maxElapsedMs?: number
  /** First backoff ceiling, in milliseconds; doubles per attempt. Default 500. */
  baseDelayMs?: number
  /** Largest backoff ceiling, in milliseconds. Default 30 000. */
  maxDelayMs?: number
}

export const DEFAULT_RETRY: Required<RetryOptions> = { maxAttempts: 10, maxElapsedMs: 60_000, baseDelayMs: 500, maxDelayMs: 30_000 }

/**
 * True for failures worth another attempt: network errors, timeouts, and 408, 429 or 5xx answers.
 * Entra's credential and configuration refusals (invalid_client, unknown app or tenant, bad scope)
 * come as 400/401 and are never retried.
 */
export function isTransient(error: unknown): boolean {
  if (!AzcredError.isInstance(error)) return false
  if (error.code === 'AZCRED_NETWORK_ERROR' || error.code === 'AZCRED_TIMEOUT') return true
  const status = (error as Partial<TokenRequestError>).status
  return status !== undefined && (status === 408 || status === 429 || status >= 500)
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential
 * ceiling, or the server's `Retry-After` when it asked for longer.
 */
export function backoffDelay(attempt: number, retry: Required<RetryOptions>, random: () => number, retryAfterMs: number | undefined): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1))
  const jittered = Math.floor(random() * ceiling)
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered)
}
