import { headerMap, type SignableRequest, toUrl } from './storage-string-to-sign'

// Table signs only the `comp` query parameter.
function tableResource(url: URL, account: string): string {
  const comp = url.searchParams.get('comp')
  return `/${account}${url.pathname === '' ? '/' : url.pathname}${comp === null ? '' : `?comp=${comp}`}`
}

/** The request's date: `x-ms-date`, else `Date`. */
function tableDate(headers: Map<string, string>): string {
  return headers.get('x-ms-date') ?? headers.get('date') ?? ''
}

/** Table service Shared Key string-to-sign: verb, Content-MD5, Content-Type, date, resource (`?comp=` only). */
export function tableStringToSign(request: SignableRequest, account: string): string {
  return tableStringToSignFrom(request.method, toUrl(request.url), headerMap(request.headers), account)
}

/** {@link tableStringToSign} over already-parsed parts. */
export function tableStringToSignFrom(method: string, url: URL, headers: Map<string, string>, account: string): string {
  return `${method.toUpperCase()}\n${headers.get('content-md5') ?? ''}\n${headers.get('content-type') ?? ''}\n${tableDate(headers)}\n${tableResource(url, account)}`
}

/** Table service Shared Key Lite string-to-sign: date, resource (`?comp=` only). */
export function tableLiteStringToSign(request: SignableRequest, account: string): string {
  return tableLiteStringToSignFrom(toUrl(request.url), headerMap(request.headers), account)
}

/** {@link tableLiteStringToSign} over already-parsed parts. */
export function tableLiteStringToSignFrom(url: URL, headers: Map<string, string>, account: string): string {
  return `${tableDate(headers)}\n${tableResource(url, account)}`
}
