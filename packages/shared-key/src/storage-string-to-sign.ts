import { AzcredError } from '@azcred/core'

/**
 * The parts of a request Shared Key signs. Header names are matched case-insensitively; a plain
 * object's name given in several cases is one header, merged as `new Headers(object)` merges it.
 */
export interface SignableRequest {
  method: string
  url: string | URL
  headers: Headers | Record<string, string>
}

// Blob, Queue and File sign these standard headers, in this order, before the x-ms-* headers.
const STANDARD_SLOTS = new Map<string, number>(
  [
    'content-encoding',
    'content-language',
    'content-length',
    'content-md5',
    'content-type',
    'date',
    'if-modified-since',
    'if-match',
    'if-none-match',
    'if-unmodified-since',
    'range',
  ].map((name, slot) => [name, slot]),
)
const CONTENT_LENGTH = 2
const DATE = 5

/**
 * Calls `visit(lower-cased name, value)` for each header of a `Headers` or a plain object (none when
 * absent). A plain object is read as `new Headers(object)` reads it, which is what `fetch` sends: its
 * own keys, and the values of a name given in several cases merged into one header, in insertion
 * order, joined with ', ' (each without the spaces and tabs around it).
 * @throws AzcredError AZCRED_CONFIG_INVALID when a name comes in several cases and `Headers` refuses
 * a name or value of the object (the message shows neither).
 */
export function forEachHeader(headers: Headers | Record<string, string> | undefined, visit: (name: string, value: string) => void): void {
  if (headers == null) return
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    // Headers lower-cases its names and merges repeated ones.
    ;(headers as Headers).forEach((value, name) => {
      visit(name, value)
    })
    return
  }
  const names = Object.keys(headers)
  let lower = names
  // Object keys are distinct: a name repeated in another case has an upper-case letter.
  if (names.some((name) => name !== name.toLowerCase())) {
    lower = names.map((name) => name.toLowerCase())
    if (lower.some((name, index) => lower.indexOf(name) < index)) {
      // Rare: one name in several cases. Headers merges them exactly as fetch will send them.
      let merged: Headers
      try {
        merged = new Headers(headers as Record<string, string>)
      } catch {
        throw new AzcredError('AZCRED_CONFIG_INVALID', 'request.headers has a name or value fetch refuses: fix it')
      }
      forEachHeader(merged, visit)
      return
    }
  }
  for (let index = 0; index < names.length; index += 1) visit(lower[index] as string, String((headers as Record<string, string>)[names[index] as string]))
}

// C0 controls (tab aside, which HTTP allows in a value) and DEL: a line break in a signed field would
// let two different requests share one string-to-sign.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL = /[\0-\x08\n-\x1f\x7f]/

// An HTTP token: header names, methods.
const TOKEN = /^[\w!#$%&'*+.^`|~-]+$/

/** An AZCRED_CONFIG_INVALID naming the field (never its value). */
export function controlError(field: string): AzcredError {
  return new AzcredError('AZCRED_CONFIG_INVALID', `${field} contains a line break or control character: remove it`)
}

/**
 * A header value as the service reads it: spaces and tabs around it dropped (HTTP parsers strip them).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the header for a line break or control character.
 */
export function headerValue(name: string, value: string): string {
  if (CONTROL.test(value)) throw controlError(`header ${name}`)
  return value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32 ? value.replace(/^[\t ]+|[\t ]+$/g, '') : value
}

/**
 * What Blob, Queue and File sign of the headers, gathered in one pass: the eleven standard values by
 * position, and the `x-ms-*` headers as `[name, value]`.
 */
export class StorageHeaders {
  readonly standard: string[] = ['', '', '', '', '', '', '', '', '', '', '']
  readonly ms: [string, string][] = []
  hasMsDate = false

  /** Whether the request carries a date (`x-ms-date` or `Date`); Shared Key needs one. */
  get hasDate(): boolean {
    return this.hasMsDate || this.standard[DATE] !== ''
  }

  constructor(headers: Headers | Record<string, string> | undefined) {
    forEachHeader(headers, (name, value) => this.add(name, value))
  }

  /** @throws AzcredError AZCRED_CONFIG_INVALID for an `x-ms-*` name that is no header name, or a value with a control character. */
  add(name: string, value: string): void {
    if (name.startsWith('x-ms-')) {
      if (!TOKEN.test(name)) throw new AzcredError('AZCRED_CONFIG_INVALID', 'an x-ms- header name is not a valid header name')
      this.ms.push([name, headerValue(name, value)])
      if (name === 'x-ms-date') this.hasMsDate = true
    } else {
      const slot = STANDARD_SLOTS.get(name)
      if (slot !== undefined) this.standard[slot] = headerValue(name, value)
    }
  }
}

// Storage orders x-ms-* names as .NET's culture-aware comparison does (the official SDKs copy it): by
// the characters apart from '-' and "'", in the order of ORDER, a shorter name first; names equal so
// then at their first difference, where another character < "'" < '-'. Names are lower-cased tokens.
const ORDER = '!#$%&*.^_`|~+0123456789abcdefghijklmnopqrstuvwxyz'
const WEIGHT = new Uint8Array(128)
for (let index = 0; index < ORDER.length; index += 1) WEIGHT[ORDER.charCodeAt(index)] = index + 1

// Where the names differ only in '-' and "'": another character, then "'", then '-'.
function place(code: number): number {
  return code === 45 ? 2 : code === 39 ? 1 : 0
}

/** Compares two lower-cased header names the way the Storage service sorts them. */
export function compareHeaderNames(a: string, b: string, from = 0): number {
  // `from`: how many leading characters the names are known to share.
  let i = from
  while (i < a.length && a.charCodeAt(i) === b.charCodeAt(i)) i += 1
  // One is the other plus more: the shorter first, whatever the rest is.
  if (i === a.length || i === b.length) return a.length - b.length
  // The common case: the first two characters that differ both count at the first level.
  const x = WEIGHT[a.charCodeAt(i)] as number
  const y = WEIGHT[b.charCodeAt(i)] as number
  if (x !== 0 && y !== 0) return x - y
  const strippedA = a.replace(/['-]/g, '')
  const strippedB = b.replace(/['-]/g, '')
  return strippedA !== strippedB ? compareHeaderNames(strippedA, strippedB) : place(a.charCodeAt(i)) - place(b.charCodeAt(i))
}

function byName(a: [string, string], b: [string, string]): number {
  // Both start with 'x-ms-'.
  return compareHeaderNames(a[0], b[0], 5)
}

/** `x-ms-*` headers, sorted by name as the service sorts them, `name:value`, one per line. */
export function canonicalizedHeaders(ms: [string, string][]): string {
  if (ms.length > 1) ms.sort(byName)
  let result = ''
  for (const [name, value] of ms) result += `${name}:${value}\n`
  return result
}

// Only a decoded part can hold a control character: a raw query has none (the plain-URL pattern
// admits printable ASCII only, and `new URL` percent-encodes them). `name` is the parameter whose
// value this is; none for a name.
function decode(text: string, name?: string): string {
  if (!text.includes('%')) return text
  let decoded: string
  try {
    decoded = decodeURIComponent(text)
  } catch {
    return text
  }
  if (CONTROL.test(decoded)) throw controlError(name === undefined ? 'a query parameter name' : `query parameter ${name.slice(0, 40)}`)
  return decoded
}

function byNameThenValue(a: [string, string], b: [string, string]): number {
  // Query names sort by code unit (unlike header names), as the service and the official SDKs do.
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0
}

// An absolute http(s) URL that WHATWG URL parsing would leave as written where it matters: a path of
// plain characters without dot segments, a query of printable ASCII (whatever `new URL` would escape
// there decodes back to the same text); the fragment is dropped.
const PLAIN_URL = /^https?:\/\/[^/?#\\\s]+(\/[\w\-.~!$&'()*+,;=:@%/]*)?(\?[!-"$-~]*)?(?:#\S*)?$/i
const DOT_SEGMENT = /\/\.|%2e/i

/**
 * The encoded path and the query (with its `?`, or empty) that a request to `url` sends. Plain string
 * URLs are split without building a `URL` (the common case, and the hot path of signing); any other
 * string goes through `new URL`, so both give what the transport puts on the wire.
 */
export function pathAndQuery(url: string | URL): [path: string, query: string] {
  let parsed: URL | undefined = url as URL
  if (typeof url === 'string') {
    const match = PLAIN_URL.exec(url)
    if (match !== null && !(match[1] !== undefined && DOT_SEGMENT.test(match[1]))) return [match[1] ?? '/', match[2] ?? '']
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
  }
  if (typeof parsed?.pathname !== 'string') throw new AzcredError('AZCRED_CONFIG_INVALID', 'request.url must be an absolute http(s) URL')
  return [parsed.pathname === '' ? '/' : parsed.pathname, parsed.search]
}

/**
 * `/{account}{encoded path}` then, per query parameter (names lower-cased and sorted), a line
 * `name:value`, repeated values decoded, sorted and comma-joined.
 */
export function canonicalizedResource(url: string | URL, account: string): string {
  const [path, search] = pathAndQuery(url)
  let result = `/${account}${path}`
  if (search.length <= 1) return result
  // Split the raw query ourselves: values are percent-decoded as the service does ('+' stays '+',
  // unlike URLSearchParams, which would read it as a space).
  const parameters: [string, string][] = []
  for (let start = 1; start < search.length; ) {
    let end = search.indexOf('&', start)
    if (end === -1) end = search.length
    if (end > start) {
      const equals = search.indexOf('=', start)
      const name = decode(search.slice(start, equals === -1 || equals > end ? end : equals)).toLowerCase()
      // `name:value` lines: a ':' in a name would read as another parameter.
      if (name.includes(':')) throw new AzcredError('AZCRED_CONFIG_INVALID', "a query parameter name contains ':'")
      parameters.push([name, equals === -1 || equals > end ? '' : decode(search.slice(equals + 1, end), name)])
    }
    start = end + 1
  }
  if (parameters.length > 1) parameters.sort(byNameThenValue)
  let previous: string | undefined
  for (const [name, value] of parameters) {
    result += name === previous ? `,${value}` : `\n${name}:${value}`
    previous = name
  }
  return result
}

/**
 * The method, upper-cased.
 * @throws AzcredError AZCRED_CONFIG_INVALID when it is not an HTTP method name.
 */
export function verb(method: string): string {
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new AzcredError('AZCRED_CONFIG_INVALID', 'request.method must be an HTTP method, such as GET')
  return method.toUpperCase()
}

/**
 * The Shared Key string-to-sign for Blob, Queue and File (version 2009-09-19 and later): the verb, the
 * eleven standard headers (`Content-Length` empty when 0; `Date` empty when `x-ms-date` is set), the
 * canonicalized `x-ms-*` headers and the canonicalized resource. Header values are signed as the
 * service reads them: without the spaces and tabs around them.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a line break or control character in a signed header
 * value or decoded query part (naming it), an `x-ms-*` name that is no header name, a bad method or URL.
 */
export function storageStringToSign(request: SignableRequest, account: string): string {
  return storageStringToSignFrom(request.method, request.url, new StorageHeaders(request.headers), account)
}

/** {@link storageStringToSign} over already-parsed parts (the signer parses once). */
export function storageStringToSignFrom(method: string, url: string | URL, headers: StorageHeaders, account: string): string {
  const standard = headers.standard
  if (standard[CONTENT_LENGTH] === '0') standard[CONTENT_LENGTH] = ''
  if (headers.hasMsDate) standard[DATE] = ''
  return `${verb(method)}\n${standard.join('\n')}\n${canonicalizedHeaders(headers.ms)}${canonicalizedResource(url, account)}`
}
