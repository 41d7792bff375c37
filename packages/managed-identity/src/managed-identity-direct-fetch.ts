import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import type { FetchLike } from '@azcred/core'

/**
 * A `fetch` over node:http(s) that always connects directly: no proxy, whatever `HTTP_PROXY`, a
 * global dispatcher or `NODE_USE_ENV_PROXY` say (each agent is our own). Like `fetch` with
 * `redirect: 'manual'`, a 3xx comes back as it is, never followed; the body is streamed, so core's
 * size limit applies while reading. `init.signal` ends every stage: waiting for a socket (a pinned
 * TLS handshake included), connecting, the answer's headers and its body; the socket is destroyed.
 * Failures reject as `TypeError('fetch failed', { cause })`, as `fetch` does. Needs no undici: a
 * bundle of a host that uses it stays small.
 *
 * The signal also reaches the agent's `createConnection` as `options.abortSignal`, so an agent that
 * creates its socket asynchronously (the Service Fabric pin) can end it too.
 */
export function createDirectFetch(https: HttpsAgent = new HttpsAgent({ keepAlive: true })): FetchLike {
  const http = new HttpAgent({ keepAlive: true })
  return (input, init) =>
    new Promise((resolve, reject) => {
      const url = new URL(input)
      const secure = url.protocol === 'https:'
      const headers: Record<string, string> = {}
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value
      })
      const signal = init.signal ?? undefined
      let answer: IncomingMessage | undefined
      const fail = (cause: unknown): void => {
        signal?.removeEventListener('abort', stop)
        reject(new TypeError('fetch failed', { cause }))
      }
      // node:http's own `signal` emits nothing while no socket is assigned yet: handled here instead.
      const stop = (): void => {
        const reason = signal?.reason ?? new Error('aborted')
        request.destroy(reason)
        answer?.destroy(reason)
        fail(reason)
      }
      const options = { method: init.method ?? 'GET', headers, agent: secure ? https : http, abortSignal: signal } as RequestOptions
      const request = (secure ? httpsRequest : httpRequest)(url, options, (response) => {
        answer = response
        // A destroyed body errors its web stream; this keeps an unread one from throwing.
        response.on('error', () => {})
        response.once('close', () => signal?.removeEventListener('abort', stop))
        const answerHeaders = new Headers()
        for (const [name, value] of Object.entries(response.headers)) {
          for (const item of Array.isArray(value) ? value : [value ?? '']) answerHeaders.append(name, item)
        }
        const status = response.statusCode ?? 0
        try {
          const empty = status === 204 || status === 205 || status === 304
          if (empty) response.resume()
          resolve(new Response(empty ? null : (Readable.toWeb(response) as unknown as ReadableStream), { status, headers: answerHeaders }))
        } catch (error) {
          response.destroy()
          fail(error)
        }
      })
      request.on('error', fail)
      if (signal?.aborted) return stop()
      signal?.addEventListener('abort', stop, { once: true })
      request.end(typeof init.body === 'string' ? init.body : undefined)
    })
}

let shared: FetchLike | undefined

/** One direct transport for the process (its idle keep-alive sockets never hold the process open). */
export function directFetch(): FetchLike {
  shared ??= createDirectFetch()
  return shared
}
