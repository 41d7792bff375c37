// What the interceptors share: undici's header forms read as one record, and async work before a dispatch.
import type { Dispatcher } from 'undici'

type Handler = Dispatcher.DispatchHandler
type DispatchOptions = Dispatcher.DispatchOptions
type Dispatch = Dispatcher['dispatch']

/** undici's header forms (object, flat array, or iterable of pairs) as one object with lower-cased names. */
export function headerRecord(headers: DispatchOptions['headers']): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {}
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2) result[String(headers[index]).toLowerCase()] = headers[index + 1] as string
  } else if (headers !== null && headers !== undefined && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [key, headerValue] of headers as Iterable<[string, string | string[]]>) result[key.toLowerCase()] = headerValue
  } else if (headers !== null && headers !== undefined) {
    for (const [key, headerValue] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
      if (headerValue !== undefined) result[key.toLowerCase()] = headerValue
    }
  }
  return result
}

/** The request's headers with one header set. */
export function withHeader(headers: DispatchOptions['headers'], name: string, value: string): Record<string, string | string[]> {
  const result = headerRecord(headers)
  result[name.toLowerCase()] = value
  return result
}

/** Runs async work before dispatching; a failure ends the request through the handler. */
export function dispatchAfter(
  work: Promise<DispatchOptions>,
  dispatch: Dispatch,
  handler: Handler,
  wrap: (options: DispatchOptions) => Handler = () => handler,
): boolean {
  work.then(
    (options) => dispatch(options, wrap(options)),
    (error: Error) => handler.onResponseError?.(null as never, error),
  )
  return true
}
