/** The parts of a request Shared Key signs. Header names are matched case-insensitively. */
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

/** Calls `visit(lower-cased name, value)` for each header of a `Headers` or a plain object. */
export function forEachHeader(headers: Headers | Record<string, string>, visit: (name: string, value: string) => void): void {
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    // Headers already lower-cases its names.
    ;(headers as Headers).forEach((value, name) => {
      visit(name, value)
    })
  } else {
    for (const name in headers) visit(name.toLowerCase(), String((headers as Record<string, string>)[name]))
  }
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

  constructor(headers: Headers | Record<string, string>) {
    forEachHeader(headers, (name, value) => this.add(name, value))
  }

  add(name: string, value: string): void {
    if (name.startsWith('x-ms-')) {
      this.ms.push([name, value])
      if (name === 'x-ms-date') this.hasMsDate = true
    } else {
      const slot = STANDARD_SLOTS.get(name)
      if (slot !== undefined) this.standard[slot] = value
    }
  }
}

function byName(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

// Unfolds continuation lines only when there are any (the common value has none).
function unfold(value: string): string {
  return (value.includes('\n') || value.includes('\r') ? value.replace(/\s*[\r\n]+\s*/g, ' ') : value).trim()
}

/** `x-ms-*` headers, sorted by lower-cased name, `name:value` with folded whitespace, one per line. */
export function canonicalizedHeaders(ms: [string, string][]): string {
  if (ms.length > 1) ms.sort(byName)
  let result = ''
  for (const [name, value] of ms) result += `${name.trim()}:${unfold(value)}\n`
  return result
}

function decode(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function byNameThenValue(a: [string, string], b: [string, string]): number {
  return byName(a, b) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
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
  if (typeof url === 'string') {
    const match = PLAIN_URL.exec(url)
    if (match !== null && !(match[1] !== undefined && DOT_SEGMENT.test(match[1]))) return [match[1] ?? '/', match[2] ?? '']
    url = new URL(url)
  }
  return [url.pathname === '' ? '/' : url.pathname, url.search]
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
      if (equals === -1 || equals > end) parameters.push([decode(search.slice(start, end)).toLowerCase(), ''])
      else parameters.push([decode(search.slice(start, equals)).toLowerCase(), decode(search.slice(equals + 1, end))])
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
 * The Shared Key string-to-sign for Blob, Queue and File (version 2009-09-19 and later): the verb, the
 * eleven standard headers (`Content-Length` empty when 0; `Date` empty when `x-ms-date` is set), the
 * canonicalized `x-ms-*` headers and the canonicalized resource.
 */
export function storageStringToSign(request: SignableRequest, account: string): string {
  return storageStringToSignFrom(request.method, request.url, new StorageHeaders(request.headers), account)
}

/** {@link storageStringToSign} over already-parsed parts (the signer parses once). */
export function storageStringToSignFrom(method: string, url: string | URL, headers: StorageHeaders, account: string): string {
  const standard = headers.standard
  if (standard[CONTENT_LENGTH] === '0') standard[CONTENT_LENGTH] = ''
  if (headers.hasMsDate) standard[DATE] = ''
  return `${method.toUpperCase()}\n${standard.join('\n')}\n${canonicalizedHeaders(headers.ms)}${canonicalizedResource(url, account)}`
}
