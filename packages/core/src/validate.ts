import { AzcredError } from './azcred-error'
import { ENV_TENANT_ID } from './env'

/**
 * The public-cloud Entra ID host, used when nothing else is configured.
 * @public
 */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com'

// Starts and ends with a letter or digit; only letters, digits, dots and hyphens between.
// That admits GUIDs, verified domains and common/organizations/consumers, and nothing that
// could change the URL path ('/', '..', '%', '?', '#').
// No '..' anywhere (the lookahead).
const TENANT_PATTERN = /^(?!.*\.\.)[a-z\d](?:[a-z\d.-]{0,254}[a-z\d])?$/i

// Names the first character that is not allowed (index `at`, -1 or NaN for none), never the value.
const notAllowed = (at: number): string => (at >= 0 ? `: character ${at + 1} is not allowed` : '')

/**
 * Throws `AZCRED_CONFIG_INVALID` with `message` unless `ok`.
 * @throws AzcredError AZCRED_CONFIG_INVALID.
 * @internal For azcred's own packages; not covered by semver.
 */
export function assertConfig(ok: unknown, message: string): asserts ok {
  if (!ok) throw new AzcredError('AZCRED_CONFIG_INVALID', message)
}

/**
 * Checks a tenant id: a GUID or a domain name. Anything that could alter the request path is refused.
 * The message never shows the value (a secret passed by mistake must not leak): it names the option
 * and the position of the first character that is not allowed.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming `optionName`.
 * @internal For azcred's own packages; not covered by semver.
 */
export function assertTenantId(tenantId: unknown, optionName = 'tenantId'): asserts tenantId is string {
  const text = typeof tenantId === 'string' ? tenantId : ''
  const at = text.search(/[^a-z\d.-]/i)
  assertConfig(TENANT_PATTERN.test(text), `${optionName} must be a tenant GUID or domain (letters, digits, inner '.' and '-', no '..')${notAllowed(at)}`)
}

/**
 * Refuses `common`, `organizations` and `consumers`, which only user sign-in understands: an app-only
 * (client credentials) flow needs the tenant's id or one of its domains.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming `optionName`.
 * @internal For azcred's own packages; not covered by semver.
 */
export function assertAppOnlyTenant(tenantId: string, optionName = `tenantId (or ${ENV_TENANT_ID})`): void {
  const alias = /^(common|organizations|consumers)$/i.exec(tenantId)?.[1]
  assertConfig(!alias, `${optionName} is ${alias?.toLowerCase()}: an app-only flow needs the tenant GUID or domain`)
}

/**
 * Checks an optional number option and returns it: undefined, or a number from `min` to `max`
 * (`NaN`, `Infinity` and non-numbers are refused).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the option and the allowed range.
 * @internal For azcred's own packages; not covered by semver.
 */
export function checkNumber(value: unknown, optionName: string, max: number, min = 0): number | undefined {
  assertConfig(value === undefined || (typeof value === 'number' && value >= min && value <= max), `${optionName} must be a number from ${min} to ${max}`)
  return value as number | undefined
}

/**
 * Checks that a required string option is present and not blank. The value is never echoed, so it
 * is safe for secrets.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the option and how to provide it.
 * @internal For azcred's own packages; not covered by semver.
 */
export function assertNonEmpty(value: unknown, optionName: string, howToFix: string): asserts value is string {
  assertConfig(typeof value === 'string' && value.trim() !== '', `${optionName} is ${value === undefined ? 'missing' : 'empty'}: ${howToFix}`)
}

/**
 * True for 127.0.0.0/8, ::1 and localhost.
 * @internal For azcred's own packages; not covered by semver.
 */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)
}

/**
 * Options of {@link normalizeAuthorityHost}.
 * @internal For azcred's own packages; not covered by semver.
 */
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
 * @internal For azcred's own packages; not covered by semver.
 */
export function normalizeAuthorityHost(value: string, options: AuthorityHostOptions = {}): string {
  const optionName = options.optionName ?? 'authorityHost'
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {}
  const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && options.allowInsecureConnection === true && isLoopbackHostname(url.hostname))
  assertConfig(
    url && secure && !url.search && !url.hash && !url.username && !url.password,
    `${optionName} must be an https: URL without query, fragment or user:password@ (http: only on loopback with allowInsecureConnection: true)`,
  )
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}

/**
 * Most scopes one call may name.
 * @public
 */
export const MAX_SCOPES = 100
/**
 * Longest scope accepted, in characters.
 * @public
 */
export const MAX_SCOPE_LENGTH = 1024

/**
 * Checks `scopes` (one scope, or an array of 1 to {@link MAX_SCOPES}) and returns them as a new array.
 * Each scope is a non-empty string of at most {@link MAX_SCOPE_LENGTH} characters without whitespace
 * or control characters (so no input can address another tenant's cache entry). Values are never
 * echoed.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the scope's index and what is wrong.
 * @internal For azcred's own packages; not covered by semver.
 */
export function normalizeScopes(scopes: unknown): string[] {
  const list: unknown[] = typeof scopes === 'string' ? [scopes] : Array.isArray(scopes) ? [...scopes] : []
  assertConfig(list.length > 0 && list.length <= MAX_SCOPES, `scopes must be a string or an array of 1 to ${MAX_SCOPES} strings`)
  list.forEach((scope, index) => {
    const at = typeof scope === 'string' && scope.length <= MAX_SCOPE_LENGTH ? scope.search(/[\s\p{Cc}\p{Cf}]/u) : Number.NaN
    assertConfig(
      scope !== '' && at < 0,
      `scopes[${index}] must be 1 to ${MAX_SCOPE_LENGTH} characters without whitespace or control characters${notAllowed(at)}`,
    )
  })
  return list as string[]
}
