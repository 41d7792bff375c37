import { AzcredError } from './azcred-error'

/** The public-cloud Entra ID host, used when nothing else is configured. */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com'

// Starts and ends with a letter or digit; only letters, digits, dots and hyphens between.
// That admits GUIDs, verified domains and common/organizations/consumers, and nothing that
// could change the URL path ('/', '..', '%', '?', '#').
const TENANT_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,254}[A-Za-z0-9])?$/

function describeTenant(value: unknown): string {
  const bad = String(value).match(/[^A-Za-z0-9.-]/)?.[0]
  return `${JSON.stringify(String(value).slice(0, 80))}${bad === undefined ? '' : ` (remove ${JSON.stringify(bad)})`}`
}

/**
 * Checks a tenant id: a GUID or a domain name. Anything that could alter the request path is refused.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming `optionName` and the offending character.
 */
export function assertTenantId(tenantId: unknown, optionName = 'tenantId'): asserts tenantId is string {
  if (typeof tenantId === 'string' && TENANT_PATTERN.test(tenantId) && !tenantId.includes('..')) return
  throw new AzcredError(
    'AZCRED_CONFIG_INVALID',
    `${optionName} must be a tenant GUID or a domain such as contoso.onmicrosoft.com (letters, digits, '.' and '-'); got ${describeTenant(tenantId)}`,
  )
}

/**
 * Checks that a required string option is present and not blank. The value is never echoed, so it
 * is safe for secrets.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the option and how to provide it.
 */
export function assertNonEmpty(value: unknown, optionName: string, howToFix: string): asserts value is string {
  if (typeof value === 'string' && value.trim() !== '') return
  throw new AzcredError('AZCRED_CONFIG_INVALID', `${optionName} is ${value === undefined ? 'missing' : 'empty'}: ${howToFix}`)
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)
}

/** Options of {@link normalizeAuthorityHost}. */
export interface AuthorityHostOptions {
  /** Allow `http:` for a loopback host (a local emulator). Default false. */
  allowInsecureConnection?: boolean | undefined
  /** Option name used in messages. Default `authorityHost`. */
  optionName?: string
}

/**
 * Parses an authority host and returns it without a trailing slash. It must be `https:`; plain
 * `http:` is accepted only for a loopback host with `allowInsecureConnection`.
 * @throws AzcredError AZCRED_CONFIG_INVALID for anything else.
 */
export function normalizeAuthorityHost(value: string, options: AuthorityHostOptions = {}): string {
  const optionName = options.optionName ?? 'authorityHost'
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {}
  const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && options.allowInsecureConnection === true && isLoopbackHostname(url.hostname))
  if (url === undefined || !secure || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `${optionName} must be an https: URL without query, fragment or credentials, such as https://login.microsoftonline.com (http: only on loopback, with allowInsecureConnection: true)`,
    )
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}

/**
 * Turns `scopes` into a non-empty list of trimmed, non-empty strings.
 * @throws AzcredError AZCRED_CONFIG_INVALID when the list or one of its entries is empty.
 */
export function normalizeScopes(scopes: string | readonly string[]): string[] {
  const list = typeof scopes === 'string' ? [scopes] : Array.isArray(scopes) ? scopes : undefined
  if (list === undefined || list.length === 0) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'scopes is empty: pass at least one scope, such as https://management.azure.com/.default')
  }
  return list.map((scope, index) => {
    if (typeof scope !== 'string' || scope.trim() === '') {
      throw new AzcredError('AZCRED_CONFIG_INVALID', `scopes[${index}] is empty: each scope must be a non-empty string`)
    }
    return scope.trim()
  })
}
