import { AzcredError } from '@azcred/core'

/**
 * The request headers App Service authentication (Easy Auth) sets on every authenticated request, as the
 * platform names them (any letter case is read). Source: "Work with user identities in Azure App Service
 * authentication" and "Work with OAuth tokens in Azure App Service authentication" (token store headers).
 * @public
 */
export const EASY_AUTH_HEADERS = {
  /** The user's access token from the token store (Microsoft Entra: for the scopes of the login, such as your API). */
  accessToken: 'X-MS-TOKEN-AAD-ACCESS-TOKEN',
  /** The user's id token from the token store. */
  idToken: 'X-MS-TOKEN-AAD-ID-TOKEN',
  /** When the access token expires (an ISO 8601 date). */
  expiresOn: 'X-MS-TOKEN-AAD-EXPIRES-ON',
  /** The signed-in user's claims: base64 of JSON `{ auth_typ, claims: [{ typ, val }], name_typ, role_typ }`. */
  principal: 'X-MS-CLIENT-PRINCIPAL',
  /** The user's id (Microsoft Entra: the object id). */
  principalId: 'X-MS-CLIENT-PRINCIPAL-ID',
  /** The user's name (Microsoft Entra: the sign-in name). */
  principalName: 'X-MS-CLIENT-PRINCIPAL-NAME',
  /** The identity provider, such as `aad`. */
  principalIdp: 'X-MS-CLIENT-PRINCIPAL-IDP',
} as const

/**
 * A Fetch `Headers` (or anything with the same `get`): Fetch `Request.headers`, Next.js, Hono's `c.req.raw.headers`.
 * @public
 */
export interface HeadersLike {
  get(name: string): string | null
}

/**
 * Headers as a plain object, as Node's `IncomingMessage.headers`, Express and Fastify give them (names in
 * any case; a repeated header as an array).
 * @public
 */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>

/**
 * Where the Easy Auth headers are read from, in one of the shapes web frameworks give a request:
 * a Node `IncomingMessage` (and Express / Fastify requests, `{ headers: record }`), a Fetch `Request`
 * (Next.js route handlers, Hono's `c.req.raw`, `{ headers: Headers }`), a `Headers`, Hono's `c.req`
 * (`{ raw: Request }`) or a plain header record.
 * @public
 */
export type EasyAuthRequest =
  | HeadersLike
  | HeaderRecord
  | { readonly headers: HeadersLike | HeaderRecord }
  | { readonly raw: { readonly headers: HeadersLike } }

/**
 * Longest Easy Auth header value read, in characters; a longer one is refused (AZCRED_RESPONSE_INVALID), never parsed. 65 536.
 * @public
 */
export const MAX_HEADER_LENGTH = 65_536

/** Reads one header, case-insensitively, from any {@link EasyAuthRequest} shape. */
export type HeaderReader = (name: string) => string | undefined

function isHeadersLike(value: unknown): value is HeadersLike {
  return typeof (value as HeadersLike | null)?.get === 'function'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/**
 * A reader over the request's headers. A header sent twice with different values (two record keys that differ
 * only in case, or an array) is refused: behind App Service there is one of each.
 * @throws AzcredError AZCRED_CONFIG_INVALID when `request` is none of the supported shapes.
 */
export function headerReader(request: EasyAuthRequest): HeaderReader {
  // A Node IncomingMessage (Express's and Fastify's too, under `raw`) joins a repeated header into one string
  // ("a, b") in `headers`; `headersDistinct` keeps each value, so a repeated header is seen and refused.
  const distinct = distinctHeaders(request) ?? (isObject(request) ? distinctHeaders((request as { raw?: unknown }).raw) : undefined)
  if (distinct !== undefined) return recordReader(distinct)
  let source: unknown = request
  // At most two hops: c.req → raw (Request) → headers.
  for (let hop = 0; hop < 2 && !isHeadersLike(source) && isObject(source); hop++) {
    const { headers, raw } = source as { headers?: unknown; raw?: unknown }
    if (isObject(headers)) source = headers
    else if (isObject(raw) && isObject((raw as { headers?: unknown }).headers)) source = raw
    else break
  }
  if (isHeadersLike(source)) {
    const headers = source
    return (name) => checkLength(name, headers.get(name) ?? undefined)
  }
  if (!isObject(source) || Array.isArray(source)) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      'request must be a Node IncomingMessage, a Fetch Request or Headers, a framework request with headers, or a plain header record',
    )
  }
  return recordReader(source as HeaderRecord)
}

/** Node's `IncomingMessage.headersDistinct` (every value of every header, names in lower case), when `value` has one. */
function distinctHeaders(value: unknown): HeaderRecord | undefined {
  if (!isObject(value)) return undefined
  const distinct = (value as { headersDistinct?: unknown }).headersDistinct
  return isObject(distinct) && !Array.isArray(distinct) ? (distinct as HeaderRecord) : undefined
}

function recordReader(record: HeaderRecord): HeaderReader {
  return (name) => {
    const wanted = name.toLowerCase()
    let found: string | undefined
    for (const key of Object.keys(record)) {
      if (key.length !== wanted.length || key.toLowerCase() !== wanted) continue
      const raw = record[key]
      const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : []
      for (const value of values) {
        if (typeof value !== 'string') continue
        if (found !== undefined && found !== value) {
          throw new AzcredError('AZCRED_RESPONSE_INVALID', `the request carries ${name} more than once with different values: refused`)
        }
        found = value
      }
    }
    return checkLength(name, found)
  }
}

function checkLength(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (value.length > MAX_HEADER_LENGTH) {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', `${name} is longer than ${MAX_HEADER_LENGTH} characters: refused`)
  }
  return value
}
