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
    for (const [name, value] of Object.entries(headers)) map.set(name.toLowerCase(), String(value))
  }
  return map
}

/** `x-ms-*` headers, lower-cased, sorted by name, `name:value` with folded whitespace, one per line. */
export function canonicalizedHeaders(headers: Map<string, string>): string {
  let result = ''
  for (const name of [...headers.keys()].filter((key) => key.startsWith('x-ms-')).sort()) {
    result += `${name.trim()}:${(headers.get(name) ?? '').replace(/\s*[\r\n]+\s*/g, ' ').trim()}\n`
  }
  return result
}

/**
 * `/{account}{encoded path}` then, per query parameter (names lower-cased and sorted), a line
 * `name:value`, repeated values decoded, sorted and comma-joined.
 */
export function canonicalizedResource(url: URL, account: string): string {
  let result = `/${account}${url.pathname === '' ? '/' : url.pathname}`
  const parameters = new Map<string, string[]>()
  for (const [name, value] of url.searchParams) {
    const key = name.toLowerCase()
    parameters.set(key, [...(parameters.get(key) ?? []), value])
  }
  for (const name of [...parameters.keys()].sort()) result += `\n${name}:${(parameters.get(name) ?? []).sort().join(',')}`
  return result
}

/**
 * The Shared Key string-to-sign for Blob, Queue and File (version 2009-09-19 and later): the verb, the
 * eleven standard headers (`Content-Length` empty when 0; `Date` empty when `x-ms-date` is set), the
 * canonicalized `x-ms-*` headers and the canonicalized resource.
 */
export function storageStringToSign(request: SignableRequest, account: string): string {
  const headers = headerMap(request.headers)
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url
  let result = `${request.method.toUpperCase()}\n`
  for (const name of STANDARD_HEADERS) {
    let value = headers.get(name) ?? ''
    if (name === 'content-length' && value === '0') value = ''
    if (name === 'date' && headers.has('x-ms-date')) value = ''
    result += `${value}\n`
  }
  return result + canonicalizedHeaders(headers) + canonicalizedResource(url, account)
}
