import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import type { FetchLike } from '@azcred/core'

/**
 * A `fetch` over node:http(s) that always connects directly: no proxy, whatever `HTTP_PROXY`, a
 * global dispatcher or `NODE_USE_ENV_PROXY` say (each agent is our own). Like `fetch` with
 * `redirect: 'manual'`, a 3xx comes back as it is, never followed; the body is streamed, so core's
 * size limit applies while reading. Failures reject as `TypeError('fetch failed', { cause })`, as
 * `fetch` does. Needs no undici: a bundle of a host that uses it stays small.
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
      const options: RequestOptions = {
        method: init.method ?? 'GET',
        headers,
        agent: secure ? https : http,
        signal: init.signal ?? undefined,
      }
      const fail = (cause: unknown): void => reject(new TypeError('fetch failed', { cause }))
      const request = (secure ? httpsRequest : httpRequest)(url, options, (response) => {
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
      request.once('error', fail)
      request.end(typeof init.body === 'string' ? init.body : undefined)
    })
}

let shared: FetchLike | undefined

/** One direct transport for the process (its idle keep-alive sockets never hold the process open). */
export function directFetch(): FetchLike {
  shared ??= createDirectFetch()
  return shared
}
