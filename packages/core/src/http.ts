import { AzcredError, TokenRequestError } from './azcred-error'
import { hintForEntraCode } from './entra-error-hints'
import type { AbortSignalLike } from './token-credential'

/** The subset of `fetch` azcred calls; pass your own (undici, a proxy-aware one, a test double). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** Default time allowed for one HTTP exchange, in milliseconds. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000

/** Transport options every network flow accepts. */
export interface HttpOptions {
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike | undefined
  /** Time allowed for the exchange, in milliseconds. Default 30 000. */
  timeoutMs?: number | undefined
  /** The caller's signal; when it fires the request ends with `AZCRED_ABORTED`. */
  abortSignal?: AbortSignalLike | undefined
}

/** A request description for {@link sendJsonRequest}. */
export interface JsonRequest {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Names the endpoint in error messages, such as "the Entra ID token endpoint". */
  endpointName: string
  /** Fix hints for Entra error codes this flow meets, by numeric code. */
  hints?: Record<number, string> | undefined
}

/** A parsed JSON answer. */
export interface JsonResponse {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** `AZCRED_ABORTED`: the caller's `abortSignal` fired. */
export function abortedError(): AzcredError {
  return new AzcredError('AZCRED_ABORTED', 'aborted by the caller (options.abortSignal)')
}

/** Throws `AZCRED_ABORTED` if the signal has already fired. */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw abortedError()
}

/**
 * Sends one HTTP request and returns its JSON body. Every failure becomes an `AzcredError`:
 * `AZCRED_ABORTED`, `AZCRED_TIMEOUT`, `AZCRED_NETWORK_ERROR`, `AZCRED_TOKEN_REQUEST_FAILED` for a
 * non-2xx status (with Entra's error fields when the body has them), `AZCRED_RESPONSE_INVALID`
 * for a 2xx answer that is not a JSON object. Messages never contain the request or raw body.
 */
export async function sendJsonRequest(request: JsonRequest, options: HttpOptions = {}): Promise<JsonResponse> {
  throwIfAborted(options.abortSignal)
  const fetchImplementation = options.fetch ?? globalThis.fetch
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS
  const controller = new AbortController()
  let ended: 'timeout' | 'aborted' | undefined
  const onAbort = (): void => {
    ended ??= 'aborted'
    controller.abort()
  }
  options.abortSignal?.addEventListener('abort', onAbort, { once: true })
  const timer = setTimeout(() => {
    ended ??= 'timeout'
    controller.abort()
  }, timeoutMs)
  const failure = (error: unknown, stage: string): AzcredError => {
    if (ended === 'aborted') return abortedError()
    if (ended === 'timeout') {
      return new AzcredError(
        'AZCRED_TIMEOUT',
        `${request.endpointName} did not answer within ${timeoutMs} ms (${stage}); raise timeoutMs or check the endpoint`,
      )
    }
    return new AzcredError(
      'AZCRED_NETWORK_ERROR',
      `could not reach ${request.endpointName} at ${safeOrigin(request.url)} (${stage}): ${describeCause(error)}`,
      { cause: error },
    )
  }
  try {
    let response: Response
    try {
      response = await fetchImplementation(request.url, {
        method: request.method ?? 'GET',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
      })
    } catch (error) {
      throw failure(error, 'sending the request')
    }
    let text: string
    try {
      text = await response.text()
    } catch (error) {
      throw failure(error, 'reading the answer')
    }
    return interpret(request, response, text)
  } finally {
    clearTimeout(timer)
    options.abortSignal?.removeEventListener('abort', onAbort)
  }
}

function interpret(request: JsonRequest, response: Response, text: string): JsonResponse {
  const contentType = response.headers.get('content-type') ?? 'no content type'
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body)
  if (response.ok) {
    if (isObject) return { status: response.status, headers: response.headers, body: body as Record<string, unknown> }
    throw new AzcredError(
      'AZCRED_RESPONSE_INVALID',
      `${request.endpointName} answered HTTP ${response.status} with ${contentType} that is not a JSON object; check that the endpoint URL points at the right service`,
    )
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
  if (isObject && typeof (body as { error?: unknown }).error === 'string') {
    return throwEntraError(request, response.status, body as Record<string, unknown>, retryAfterMs)
  }
  throw new TokenRequestError(
    `${request.endpointName} answered HTTP ${response.status} with ${contentType}${isObject ? '' : ' (not the JSON error Entra ID sends)'}; the service or a proxy in front of it failed`,
    { status: response.status, retryAfterMs },
  )
}

function throwEntraError(request: JsonRequest, status: number, body: Record<string, unknown>, retryAfterMs: number | undefined): never {
  const errorCodes = Array.isArray(body.error_codes) ? body.error_codes.filter((code): code is number => typeof code === 'number') : []
  const details = {
    status,
    error: String(body.error),
    errorCodes,
    traceId: typeof body.trace_id === 'string' ? body.trace_id : undefined,
    correlationId: typeof body.correlation_id === 'string' ? body.correlation_id : undefined,
    claims: typeof body.claims === 'string' ? body.claims : undefined,
    retryAfterMs,
  }
  const code = errorCodes[0] === undefined ? '' : `, AADSTS${errorCodes[0]}`
  const hint = hintForEntraCode(errorCodes[0], request.hints) ?? 'see error_codes in the Entra ID error reference'
  const ids = details.traceId === undefined ? '' : ` [trace ${details.traceId}, correlation ${details.correlationId ?? 'none'}]`
  throw new TokenRequestError(`${request.endpointName} refused the request (HTTP ${status} ${details.error}${code}): ${hint}${ids}`, details)
}

function safeOrigin(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return 'an invalid URL'
  }
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (error instanceof Error) return error.message
  return 'unknown error'
}
