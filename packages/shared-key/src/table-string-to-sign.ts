import { CONTROL, controlError, forEachHeader, headerValue, pathAndQuery, type SignableRequest, verb } from './storage-string-to-sign'

/** The headers Table signs: Content-MD5, Content-Type and the date (`x-ms-date`, else `Date`). */
export interface TableHeaders {
  contentMd5: string
  contentType: string
  date: string
}

/**
 * Reads {@link TableHeaders} from a `Headers` or a plain object, values as the service reads them
 * (without the spaces and tabs around them).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the header for a line break or control character in a signed value.
 */
export function tableHeaders(headers: Headers | Record<string, string> | undefined): TableHeaders {
  let msDate: string | undefined
  let date = ''
  const result = { contentMd5: '', contentType: '', date: '' }
  forEachHeader(headers, (name, value) => {
    if (name === 'x-ms-date') msDate = headerValue(name, value)
    else if (name === 'date') date = headerValue(name, value)
    else if (name === 'content-md5') result.contentMd5 = headerValue(name, value)
    else if (name === 'content-type') result.contentType = headerValue(name, value)
  })
  result.date = msDate ?? date
  return result
}

// Table signs only the `comp` query parameter.
function tableResource(url: string | URL, account: string): string {
  const [path, query] = pathAndQuery(url)
  const comp = new URLSearchParams(query).get('comp')
  if (comp !== null && CONTROL.test(comp)) throw controlError('query parameter comp')
  return `/${account}${path}${comp === null ? '' : `?comp=${comp}`}`
}

/** Table service Shared Key string-to-sign: verb, Content-MD5, Content-Type, date, resource (`?comp=` only). */
export function tableStringToSign(request: SignableRequest, account: string): string {
  return tableStringToSignFrom(request.method, request.url, tableHeaders(request.headers), account)
}

/** {@link tableStringToSign} over already-parsed parts. */
export function tableStringToSignFrom(method: string, url: string | URL, headers: TableHeaders, account: string): string {
  return `${verb(method)}\n${headers.contentMd5}\n${headers.contentType}\n${headers.date}\n${tableResource(url, account)}`
}

/** Table service Shared Key Lite string-to-sign: date, resource (`?comp=` only). */
export function tableLiteStringToSign(request: SignableRequest, account: string): string {
  return tableLiteStringToSignFrom(request.url, tableHeaders(request.headers), account)
}

/** {@link tableLiteStringToSign} over already-parsed parts. */
export function tableLiteStringToSignFrom(url: string | URL, headers: TableHeaders, account: string): string {
  return `${headers.date}\n${tableResource(url, account)}`
}
