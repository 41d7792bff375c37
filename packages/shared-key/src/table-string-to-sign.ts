import { headerMap, type SignableRequest } from './storage-string-to-sign'

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
  const headers = headerMap(request.headers)
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url
  return `${request.method.toUpperCase()}\n${headers.get('content-md5') ?? ''}\n${headers.get('content-type') ?? ''}\n${tableDate(headers)}\n${tableResource(url, account)}`
}

/** Table service Shared Key Lite string-to-sign: date, resource (`?comp=` only). */
export function tableLiteStringToSign(request: SignableRequest, account: string): string {
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url
  return `${tableDate(headerMap(request.headers))}\n${tableResource(url, account)}`
}
