import { ENV_ADDITIONALLY_ALLOWED_TENANTS, readEnv } from './env'
import { assertConfig, assertTenantId } from './validate'

/**
 * Reads the allowed-tenant list from options, falling back to `AZURE_ADDITIONALLY_ALLOWED_TENANTS`
 * (`;`-separated), and returns it lower-cased.
 * @throws AzcredError AZCRED_CONFIG_INVALID when the option is not an array.
 * @internal For azcred's own packages; not covered by semver.
 */
export function allowedTenants(fromOptions: readonly string[] | undefined): string[] {
  const list: unknown = fromOptions ?? readEnv(ENV_ADDITIONALLY_ALLOWED_TENANTS)?.split(';') ?? []
  assertConfig(Array.isArray(list), 'additionallyAllowedTenants must be an array of tenant ids (or "*")')
  return list.map((tenant) => `${tenant}`.trim().toLowerCase()).filter((tenant) => tenant !== '')
}

/**
 * Decides which tenant one call uses, with the same multi-tenant rule as `@azure/identity`: a
 * per-call `tenantId` other than the configured one is refused unless it is listed in
 * `additionallyAllowedTenants`, or that list holds `*`. Messages never repeat the requested value.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a refused or malformed tenant.
 * @internal For azcred's own packages; not covered by semver.
 */
export function resolveTenant(configured: string, requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined) return configured
  assertTenantId(requested, 'getToken options.tenantId')
  const lower = requested.toLowerCase()
  if (lower === configured.toLowerCase()) return configured
  assertConfig(
    allowed.includes('*') || allowed.includes(lower),
    `getToken options.tenantId is not allowed: add it (or "*") to additionallyAllowedTenants or ${ENV_ADDITIONALLY_ALLOWED_TENANTS}`,
  )
  return requested
}
