import type { FetchLike } from '@azcred/core'
import type { Dispatcher } from 'undici'

/**
 * A `fetch` over an undici dispatcher that is built, with undici itself, on the first request, so
 * importing a host that might need one costs nothing until it does.
 */
export function createLazyUndiciFetch(createDispatcher: (undici: typeof import('undici')) => Dispatcher): FetchLike {
  let bound: Promise<FetchLike> | undefined
  return async (input, init) => {
    bound ??= import('undici').then((undici) => {
      const dispatcher = createDispatcher(undici)
      return (url: string, request: RequestInit) => undici.fetch(url, { ...(request as object), dispatcher }) as unknown as Promise<Response>
    })
    return (await bound)(input, init)
  }
}
