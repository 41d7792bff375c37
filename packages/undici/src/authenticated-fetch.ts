import type { FetchLike, TokenCredential } from '@azcred/core'
import { bearerAuthorization, parseClaimsChallenge } from './bearer-authorization'

/** Options of {@link createAuthenticatedFetch}. */
export interface AuthenticatedFetchOptions {
  credential: TokenCredential
  scopes: string | string[]
  /** The `fetch` underneath. Default `globalThis.fetch`. */
  fetch?: FetchLike
}

function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams
}

/**
 * A `fetch` that sends `Authorization: Bearer <token>` from the credential and, on a 401 carrying a
 * claims challenge, asks the credential again with those claims and retries once (when the body can
 * be replayed).
 * @throws AzcredError (rejected promise, nothing sent) the credential's error, or AZCRED_RESPONSE_INVALID
 * when it returns `null`, a token whose `tokenType` is not Bearer, or a token a header cannot carry.
 * @example const fetchWithToken = createAuthenticatedFetch({ credential, scopes: 'https://graph.microsoft.com/.default' })
 */
export function createAuthenticatedFetch(options: AuthenticatedFetchOptions): FetchLike {
  const { credential, scopes } = options
  const send = async (input: string, init: RequestInit, claims?: string): Promise<Response> => {
    const headers = new Headers(init.headers)
    headers.set('authorization', await bearerAuthorization(credential, scopes, claims))
    return (options.fetch ?? globalThis.fetch)(input, { ...init, headers })
  }
  return async (input, init = {}) => {
    const response = await send(input, init)
    if (response.status !== 401 || !replayable(init.body)) return response
    const claims = parseClaimsChallenge(response.headers.get('www-authenticate') ?? undefined)
    if (claims === undefined) return response
    await response.body?.cancel()
    return send(input, init, claims)
  }
}
