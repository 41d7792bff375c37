import type { IncomingMessage, ServerResponse } from 'node:http'

/** A misbehaviour the emulator shows for one request. */
export type Fault =
  /** An error status, with `Retry-After` when given (seconds, or an HTTP date string). */
  | { kind: 'status'; status: number; retryAfter?: number | string; body?: Record<string, unknown> }
  /** A 2xx answer declared as JSON whose body is cut off. */
  | { kind: 'malformed-json'; status?: number }
  /** An HTML page, as a proxy or captive portal sends (default status 200). */
  | { kind: 'html'; status?: number }
  /** Waits `ms` before answering normally. */
  | { kind: 'delay'; ms: number }
  /** Destroys the connection without answering. */
  | { kind: 'reset' }

interface QueuedFault {
  fault: Fault
  pathIncludes: string | undefined
  /** For a timed fault: applies to every matching request until this time (ms since epoch). */
  until?: number
}

/** Faults waiting for the next matching requests, each used once, first in first out. */
export class FaultQueue {
  readonly #queue: QueuedFault[] = []

  add(fault: Fault, count: number, pathIncludes?: string): void {
    for (let index = 0; index < count; index += 1) this.#queue.push({ fault, pathIncludes })
  }

  /** Applies `fault` to every matching request for the next `durationMs` (such as "410 for 3 seconds"). */
  addFor(fault: Fault, durationMs: number, pathIncludes?: string): void {
    this.#queue.push({ fault, pathIncludes, until: Date.now() + durationMs })
  }

  clear(): void {
    this.#queue.length = 0
  }

  get pending(): number {
    return this.#queue.length
  }

  /** Removes and returns the first fault that applies to this path. */
  take(path: string): Fault | undefined {
    const now = Date.now()
    for (let index = this.#queue.length - 1; index >= 0; index -= 1) {
      const until = this.#queue[index]?.until
      if (until !== undefined && until <= now) this.#queue.splice(index, 1)
    }
    const index = this.#queue.findIndex((queued) => queued.pathIncludes === undefined || path.includes(queued.pathIncludes))
    const queued = this.#queue[index]
    if (queued === undefined) return undefined
    if (queued.until === undefined) this.#queue.splice(index, 1)
    return queued.fault
  }
}

/**
 * Applies a fault. Returns true when the answer has been sent (or the socket destroyed), false
 * when the request should go on normally (after a delay).
 */
export async function applyFault(fault: Fault, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  switch (fault.kind) {
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, fault.ms))
      return false
    case 'reset':
      request.socket.destroy()
      return true
    case 'html':
      response.writeHead(fault.status ?? 200, { 'content-type': 'text/html; charset=utf-8' })
      response.end('<!DOCTYPE html><html><body><h1>Service unavailable</h1><p>The proxy could not reach the service.</p></body></html>')
      return true
    case 'malformed-json':
      response.writeHead(fault.status ?? 200, { 'content-type': 'application/json; charset=utf-8' })
      response.end('{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAi')
      return true
    case 'status': {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter)
      response.writeHead(fault.status, headers)
      response.end(JSON.stringify(fault.body ?? { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable.' }))
      return true
    }
  }
}
