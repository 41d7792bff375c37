/** The parts of a request Shared Key signs. Header names are matched case-insensitively. */
export interface SignableRequest {
  method: string
  url: string | URL
  headers: Headers | Record<string, string>
}

// Blob, Queue and File sign these standard headers, in this order, before the x-ms-* headers.
const STANDARD_HEADERS = [
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
] as const

/** Lower-cased header names to values, from either a `Headers` or a plain object. */
export function headerMap(headers: Headers | Record<string, string>): Map<string, string> {
  const map = new Map<string, string>()
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    ;(headers as Headers).forEach((value, name) => {
      map.set(name.toLowerCase(), value)
    })
  } else {
    for (const name in headers) map.set(name.toLowerCase(), String((headers as Record<string, string>)[name]))
  }
  return map
}

/** `x-ms-*` headers, lower-cased, sorted by name, `name:value` with folded whitespace, one per line. */
export function canonicalizedHeaders(headers: Map<string, string>): string {
  let result = ''
  const names: string[] = []
  for (const name of headers.keys()) if (name.startsWith('x-ms-')) names.push(name)
  names.sort()
  for (const name of names) {
    const value = headers.get(name) ?? ''
    // Unfold continuation lines only when there are any (the common value has none).
    const folded = value.includes('\n') || value.includes('\r') ? value.replace(/\s*[\r\n]+\s*/g, ' ') : value
    result += `${name.trim()}:${folded.trim()}\n`
  }
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

/**
 * `/{account}{encoded path}` then, per query parameter (names lower-cased and sorted), a line
 * `name:value`, repeated values decoded, sorted and comma-joined.
 */
export function canonicalizedResource(url: URL, account: string): string {
  let result = `/${account}${url.pathname === '' ? '/' : url.pathname}`
  if (url.search === '') return result
  // Split the raw query ourselves: values are percent-decoded as the service does ('+' stays '+',
  // unlike URLSearchParams, which would read it as a space).
  const parameters = new Map<string, string[]>()
  for (const pair of url.search.slice(1).split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const key = decode(equals === -1 ? pair : pair.slice(0, equals)).toLowerCase()
    const value = equals === -1 ? '' : decode(pair.slice(equals + 1))
    const values = parameters.get(key)
    if (values === undefined) parameters.set(key, [value])
    else values.push(value)
  }
  for (const name of [...parameters.keys()].sort()) {
    const values = parameters.get(name) as string[]
    result += `\n${name}:${values.length === 1 ? values[0] : values.sort().join(',')}`
  }
  return result
}

/**
 * The Shared Key string-to-sign for Blob, Queue and File (version 2009-09-19 and later): the verb, the
 * eleven standard headers (`Content-Length` empty when 0; `Date` empty when `x-ms-date` is set), the
 * canonicalized `x-ms-*` headers and the canonicalized resource.
 */
export function storageStringToSign(request: SignableRequest, account: string): string {
  return storageStringToSignFrom(request.method, toUrl(request.url), headerMap(request.headers), account)
}

/** `request.url` as a `URL`. */
export function toUrl(url: string | URL): URL {
  return typeof url === 'string' ? new URL(url) : url
}

/** {@link storageStringToSign} over already-parsed parts (the signer parses once). */
export function storageStringToSignFrom(method: string, url: URL, headers: Map<string, string>, account: string): string {
  let result = `${method.toUpperCase()}\n`
  for (const name of STANDARD_HEADERS) {
    let value = headers.get(name) ?? ''
    if (name === 'content-length' && value === '0') value = ''
    if (name === 'date' && headers.has('x-ms-date')) value = ''
    result += `${value}\n`
  }
  return result + canonicalizedHeaders(headers) + canonicalizedResource(url, account)
}
