import { AzureSasCredential } from '@azcred/key-credential'
import type { Dispatcher } from 'undici'
import { dispatchAfter, headerRecord, withHeader } from './dispatch-helpers'

// `@azcred/shared-key`'s schemes, restated so this package does not depend on it.
type SharedKeyScheme = 'storage' | 'table' | 'table-lite'

/** Anything that signs a request with Shared Key: `@azcred/shared-key`'s signer. */
export interface RequestAuthorizer {
  authorize(request: { method: string; url: string; headers: Record<string, string> }, scheme?: SharedKeyScheme): Promise<Record<string, string>>
}

function flatHeaders(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(headerRecord(headers))) result[name] = Array.isArray(value) ? value.join(', ') : value
  return result
}

/**
 * An undici interceptor that signs each request with Shared Key (Blob, Queue, File; `scheme` `table`
 * or `table-lite` for Table). Signs what undici will send: method, origin + path, headers.
 * @example new Agent().compose(sharedKeyInterceptor({ signer: createSharedKeySigner({ accountName, accountKey }) }))
 */
export function sharedKeyInterceptor(options: { signer: RequestAuthorizer; scheme?: SharedKeyScheme }): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (request, handler) => {
    const headers = flatHeaders(request.headers)
    // undici adds Content-Length itself after interceptors; sign the value it will send.
    const { body } = request
    if (headers['content-length'] === undefined && (typeof body === 'string' || body instanceof Uint8Array)) {
      headers['content-length'] = String(typeof body === 'string' ? new TextEncoder().encode(body).length : body.length)
    }
    const work = options.signer
      .authorize({ method: request.method, url: `${request.origin}${request.path}`, headers }, options.scheme)
      .then((added) => ({ ...request, headers: { ...headers, ...added } }))
    return dispatchAfter(work, dispatch, handler)
  }
}

/**
 * An undici interceptor that puts a SAS on every request's query, replacing any SAS already there.
 * Takes `@azcred/key-credential`'s `AzureSasCredential` or any `{ signature }` (core-auth's `SASCredential`).
 * @example new Agent().compose(sasInterceptor({ credential: new AzureSasCredential(sas) }))
 */
export function sasInterceptor(options: { credential: { signature: string } }): Dispatcher.DispatcherComposeInterceptor {
  const { credential } = options
  // A plain { signature } is parsed once per signature value, not once per request.
  let parsed: { signature: string; sas: AzureSasCredential } | undefined
  const current = (): AzureSasCredential => {
    if (credential instanceof AzureSasCredential) return credential
    if (parsed?.signature !== credential.signature) parsed = { signature: credential.signature, sas: new AzureSasCredential(credential.signature) }
    return parsed.sas
  }
  return (dispatch) => (request, handler) => {
    const sas = current()
    const url = new URL(sas.apply(`${request.origin}${request.path}`))
    return dispatch({ ...request, path: `${url.pathname}${url.search}` }, handler)
  }
}

/**
 * An undici interceptor that sends an API key in its header (`api-key` unless the credential says
 * otherwise). Takes `@azcred/key-credential`'s `AzureKeyCredential` or any `{ key }`; rotation is seen
 * on the next request.
 * @example new Agent().compose(apiKeyInterceptor({ credential: new AzureKeyCredential(key, { header: 'Ocp-Apim-Subscription-Key' }) }))
 */
export function apiKeyInterceptor(options: { credential: { key: string; header?: string } }): Dispatcher.DispatcherComposeInterceptor {
  const { credential } = options
  return (dispatch) => (request, handler) =>
    dispatch({ ...request, headers: withHeader(request.headers, credential.header ?? 'api-key', credential.key) }, handler)
}
