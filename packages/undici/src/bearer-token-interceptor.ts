import type { TokenCredential } from '@azcred/core'
import type { Dispatcher } from 'undici'
import { bearerAuthorization, parseClaimsChallenge } from './bearer-authorization'
import { dispatchAfter, withHeader } from './dispatch-helpers'

/** Options of {@link bearerTokenInterceptor}. */
export interface BearerTokenInterceptorOptions {
  /** Any `TokenCredential` (azcred's or `@azure/identity`'s). */
  credential: TokenCredential
  /** The scopes tokens are requested for, such as `https://storage.azure.com/.default`. */
  scopes: string | string[]
}

type Handler = Dispatcher.DispatchHandler
type DispatchOptions = Dispatcher.DispatchOptions

/** Swallows one 401 claims challenge and asks for a retry; passes everything else through. */
class ClaimsChallengeHandler implements Handler {
  readonly #handler: Handler
  readonly #retry: ((claims: string) => void) | undefined
  #claims: string | undefined

  constructor(handler: Handler, retry: ((claims: string) => void) | undefined) {
    this.#handler = handler
    this.#retry = retry
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context)
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>, socket: never): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers as never, socket)
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void {
    if (statusCode === 401 && this.#retry !== undefined) {
      this.#claims = parseClaimsChallenge(headers['www-authenticate'])
      if (this.#claims !== undefined) return
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers as never, statusMessage)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#claims === undefined) this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[]>): void {
    if (this.#claims !== undefined && this.#retry !== undefined) this.#retry(this.#claims)
    else this.#handler.onResponseEnd?.(controller, trailers as never)
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#handler.onResponseError?.(controller, error)
  }
}

function replayable(body: DispatchOptions['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
}

/**
 * An undici interceptor (for `agent.compose(...)`) that sends `Authorization: Bearer <token>` from
 * any `TokenCredential`. On a 401 carrying a claims challenge (continuous access evaluation) it asks
 * the credential again with those claims and retries once, when the request body can be replayed.
 * A request fails (nothing sent) with the credential's error, or with AZCRED_RESPONSE_INVALID when it
 * returns `null`, a token whose `tokenType` is not Bearer, or a token a header cannot carry.
 *
 * @example
 * const agent = new Agent().compose(bearerTokenInterceptor({ credential, scopes: 'https://storage.azure.com/.default' }))
 * await request(url, { dispatcher: agent })
 */
export function bearerTokenInterceptor(options: BearerTokenInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  const { credential, scopes } = options
  const authorized = async (request: DispatchOptions, claims?: string): Promise<DispatchOptions> => {
    return { ...request, headers: withHeader(request.headers, 'authorization', await bearerAuthorization(credential, scopes, claims)) }
  }
  return (dispatch) => (request, handler) => {
    const retry = replayable(request.body)
      ? (claims: string): void => {
          dispatchAfter(authorized(request, claims), dispatch, handler)
        }
      : undefined
    return dispatchAfter(authorized(request), dispatch, handler, () => new ClaimsChallengeHandler(handler, retry))
  }
}
