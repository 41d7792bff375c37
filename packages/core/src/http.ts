import { AzcredError, TokenRequestError, type TokenRequestErrorDetails } from './azcred-error'
import { hintForEntraCode } from './entra-error-hints'
import type { AbortSignalLike } from './token-credential'
import { assertConfig } from './validate'

/**
 * The subset of `fetch` azcred calls; pass your own (undici, a proxy-aware one, a test double).
 * @public
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/**
 * Default time allowed for one HTTP exchange, in milliseconds.
 * @public
 */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000

/**
 * Transport options every network flow accepts.
 * @public
 */
export interface HttpOptions {
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike | undefined
  /** Time allowed for the exchange, in milliseconds. Default 30 000. */
  timeoutMs?: number | undefined
  /** The caller's signal; when it fires the request ends with `AZCRED_ABORTED`. */
  abortSignal?: AbortSignalLike | undefined
}

/**
 * A request description for {@link sendJsonRequest}.
 * @internal For azcred's own packages; not covered by semver.
 */
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

/**
 * A parsed JSON answer.
 * @internal For azcred's own packages; not covered by semver.
 */
export interface JsonResponse {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/**
 * Longest `Retry-After` honoured, in milliseconds (5 minutes); a longer or later value is capped to it.
 * @public
 */
export const MAX_RETRY_AFTER_MS = 300_000

/**
 * Largest answer body read, in bytes after decompression (1 MiB); a larger one is `AZCRED_RESPONSE_INVALID`.
 * @public
 */
export const MAX_RESPONSE_BYTES = 1_048_576

/**
 * A server string made fit for a message or error field: only printable ASCII kept (no control,
 * line-separator or bidi characters), cut to `max` characters. Undefined for a non-string.
 * @internal For azcred's own packages; not covered by semver.
 */
export function serverText(value: unknown, max = 100): string | undefined {
  return typeof value === 'string' ? value.replace(/[^ -~]/g, '').slice(0, max) : undefined
}

/**
 * Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from `now`, between 0 and
 * {@link MAX_RETRY_AFTER_MS}. Undefined when absent or unreadable (negative, NaN, not a date).
 * @internal For azcred's own packages; not covered by semver.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim() ?? ''
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : /[a-z]/i.test(text) ? Date.parse(text) - now : Number.NaN
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)))
}

/**
 * `AZCRED_ABORTED`: the caller's `abortSignal` fired.
 * @internal For azcred's own packages; not covered by semver.
 */
export function abortedError(): AzcredError {
  return new AzcredError('AZCRED_ABORTED', 'aborted by the caller (options.abortSignal)')
}

/**
 * Throws `AZCRED_ABORTED` if the signal has already fired.
 * @internal For azcred's own packages; not covered by semver.
 */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw abortedError()
}

// Network failures retrying cannot fix: DNS says the name does not exist, the TLS certificate is
// refused, or an https: URL is answered by plain HTTP ("wrong version number").
const FINAL_NETWORK_ERROR = /^(ENOTFOUND|EAI_NONAME|\w*CERT|UNABLE_TO|INVALID_CA)|wrong version number/

/**
 * Sends one HTTP request and returns its JSON body. Never follows a redirect (`redirect: 'manual'`,
 * also for a custom `fetch`; an answer a custom `fetch` got by following one anyway, `redirected` or
 * a `url` of another origin, is refused) and reads at most {@link MAX_RESPONSE_BYTES}. `timeoutMs`
 * and the caller's signal end the exchange even when a custom `fetch` ignores `signal` or never
 * settles (the body is cancelled). Every failure becomes an
 * `AzcredError`: `AZCRED_CONFIG_INVALID` for an unparsable URL or one with `user:password@`, or a
 * header whose name is not an HTTP token or whose value holds a line break, another control
 * character or a character beyond Latin-1 (naming the header, never its value; nothing is sent),
 * `AZCRED_ABORTED`, `AZCRED_TIMEOUT`, `AZCRED_NETWORK_ERROR` (`retryable: false` for DNS "no such
 * name", TLS certificate and "https: answered by plain HTTP" failures), `AZCRED_TOKEN_REQUEST_FAILED`
 * for a 3xx or a followed redirect (`retryable: false`, naming only the target's origin) or a non-2xx status (a
 * `TokenRequestError` with Entra's error fields when the body has them), `AZCRED_RESPONSE_INVALID`
 * for a 2xx answer that is not a JSON object or a body over the limit. Messages never contain the
 * request or raw body; server strings in them are capped and stripped of control characters. A
 * network error names the endpoint's origin (never the path) and the thrown error's `code` (such as `ECONNREFUSED`) or else its class name,
 * never its message, and its `cause` is a copy of the thrown chain holding only each link's `name`,
 * `code` and symbol-keyed boolean marks.
 * @internal For azcred's own packages; not covered by semver.
 */
export async function sendJsonRequest(request: JsonRequest, options: HttpOptions = {}): Promise<JsonResponse> {
  throwIfAborted(options.abortSignal)
  const { endpointName } = request
  let url: URL | undefined
  try {
    url = new URL(request.url)
  } catch {}
  assertConfig(url && !url.username && !url.password, `${endpointName}: use an absolute URL without user:password@`)
  // Checked before fetch sees them: fetch's own TypeError would quote the value (a secret header).
  for (const name in request.headers) {
    assertConfig(
      /^[\w!#$%&'*+.^`|~-]+\n[\t -~\xa0-\xff]*$/.test(`${name}\n${request.headers[name]}`),
      `${endpointName}: header ${serverText(name)} has a line break, control or non-Latin-1 character: remove it`,
    )
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS
  const controller = new AbortController()
  let ended: 'timeout' | 'aborted' | undefined
  let stop: () => void
  // Rejects when the timer or the caller's signal fires: raced against the fetch and every read, so a
  // custom fetch that ignores `signal` (or never settles) cannot outlive timeoutMs.
  const stopped = new Promise<never>((_, reject) => {
    stop = reject
  })
  const end = (why: 'timeout' | 'aborted') => (): void => {
    ended ??= why
    controller.abort()
    stop()
  }
  const onAbort = end('aborted')
  // An abort event fires once; the listener is removed when the request ends.
  options.abortSignal?.addEventListener('abort', onAbort)
  const timer = setTimeout(end('timeout'), timeoutMs)
  let stage = 'sending the request'
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let text = ''
  let response: Response
  try {
    response = await Promise.race([
      (options.fetch ?? fetch)(request.url, {
        method: request.method ?? 'GET',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: controller.signal,
      }),
      stopped,
    ])
    if (typeof response?.status !== 'number' || typeof response.headers?.get !== 'function') {
      throw new AzcredError('AZCRED_CONFIG_INVALID', `${endpointName}: options.fetch resolved to something that is not a Response`)
    }
    reader = response.body?.getReader()
    const { status } = response
    const origin = (value: string | null, base?: URL): string => {
      try {
        if (value) return new URL(value, base).origin
      } catch {}
      return '?'
    }
    // A custom fetch that followed a redirect anyway: its answer is never the token.
    const followed = response.redirected || (response.url && origin(response.url) !== url.origin)
    // Status 0 is a browser's opaque redirect.
    if (!status || (status > 299 && status < 400) || followed) {
      throw new AzcredError(
        'AZCRED_TOKEN_REQUEST_FAILED',
        `${endpointName} answered HTTP ${status} (redirect to ${serverText(followed ? origin(response.url) : origin(response.headers.get('location'), url))}, ${followed ? 'options.fetch followed it' : 'never followed'}): use the final URL`,
        { retryable: false },
      )
    }
    stage = 'reading the answer'
    const decoder = new TextDecoder()
    // Counted as the bytes arrive (after decompression), so a huge or zip-bomb answer stops early.
    for (let size = 0; ; ) {
      const chunk = await Promise.race([reader?.read(), stopped])
      if (!chunk || chunk.done) break
      size += chunk.value.byteLength
      if (size > MAX_RESPONSE_BYTES) {
        throw new AzcredError('AZCRED_RESPONSE_INVALID', `${endpointName} answered over 1 MiB (MAX_RESPONSE_BYTES): check the URL`)
      }
      text += decoder.decode(chunk.value, { stream: true })
    }
    text += decoder.decode()
  } catch (error) {
    controller.abort()
    // Also ends a body that a custom fetch reads without the signal.
    reader?.cancel().catch(ignore)
    if (ended === 'aborted') throw abortedError()
    if (ended) {
      throw new AzcredError('AZCRED_TIMEOUT', `${endpointName} did not answer within ${timeoutMs} ms (${stage}); raise timeoutMs or check the endpoint`)
    }
    if (AzcredError.isInstance(error)) throw error
    // undici nests the system error (with its `code`) one or more `cause`s deep.
    let code: unknown
    let final = false
    // A copy of the chain (at most 9 links) with each link's `name`, `code` and symbol-keyed boolean
    // marks only: a message, or any other field, may quote the URL or a header.
    type Link = Record<PropertyKey, unknown> | undefined
    const copy = (link: Link, depth: number): Link => {
      if (!link || depth > 8) return
      const kept: Link = { name: matching(link.name, WORD), code: matching(link.code, WORD), cause: copy(link.cause as Link, depth + 1) }
      for (const key of Object.getOwnPropertySymbols(link)) if (typeof link[key] === 'boolean') kept[key] = link[key]
      // The outermost code wins: it is assigned after the inner links'.
      code = kept.code ?? code
      final ||= FINAL_NETWORK_ERROR.test(`${link.code} ${link.message}`)
      return kept
    }
    const cause = copy(error as Link, 0)
    // Only the origin: a path may hold a tenant id, and a secret passed as one must not show.
    throw new AzcredError(
      'AZCRED_NETWORK_ERROR',
      `could not reach ${endpointName} at ${url.origin} (${stage}): ${code ?? cause?.name ?? 'unknown error'}${final ? '; not retried: check the URL and certificate' : ''}`,
      final ? { cause, retryable: false } : { cause },
    )
  } finally {
    clearTimeout(timer)
    options.abortSignal?.removeEventListener('abort', onAbort)
  }
  return interpret(request, response, text)
}

/**
 * Does nothing: a `catch` handler for a rejection that needs no handling.
 * @internal For azcred's own packages; not covered by semver.
 */
export function ignore(): void {}

function interpret(request: JsonRequest, response: Response, text: string): JsonResponse {
  const { status } = response
  const contentType = serverText(response.headers.get('content-type')) ?? 'no content type'
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {}
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
  const body = (isObject ? parsed : {}) as Record<string, unknown>
  const answered = `${request.endpointName} answered HTTP ${status} with ${contentType}`
  if (response.ok) {
    if (isObject) return { status, headers: response.headers, body }
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `${answered}, not a JSON object: check the URL`)
  }
  const { error_codes, trace_id, correlation_id, claims } = body
  const details: TokenRequestErrorDetails = { status, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) }
  // Only a string that looks like an OAuth error token (`invalid_client`) is Entra's error.
  const error = matching(body.error, WORD)
  if (!error) {
    throw new TokenRequestError(`${answered}${isObject ? '' : ' (not a JSON error)'}: the service or a proxy failed`, details)
  }
  const errorCodes = Array.isArray(error_codes) ? (error_codes.filter(Number.isSafeInteger).slice(0, 9) as number[]) : []
  Object.assign(details, {
    error,
    errorCodes,
    traceId: matching(trace_id, GUID),
    correlationId: matching(correlation_id, GUID),
    claims: serverText(claims, 8192),
  })
  const code = errorCodes[0] === undefined ? '' : `, AADSTS${errorCodes[0]}`
  const hint = hintForEntraCode(errorCodes[0], request.hints) ?? 'see error_codes in the Entra ID error reference'
  const ids = details.traceId === undefined ? '' : ` [trace ${details.traceId}, correlation ${details.correlationId ?? 'none'}]`
  throw new TokenRequestError(`${request.endpointName} refused the request (HTTP ${status} ${error}${code}): ${hint}${ids}`, details)
}

// An OAuth error token, error code or class name: word characters only.
const WORD = /^\w{1,64}$/
// Shaped like a GUID: 36 hex digits and dashes.
const GUID = /^[\da-f-]{36}$/i

function matching(value: unknown, pattern: RegExp): string | undefined {
  return typeof value === 'string' && pattern.test(value) ? value : undefined
}
