import { AzcredError } from './azcred-error'
import { ENV_ADDITIONALLY_ALLOWED_TENANTS, readEnv } from './env'
import { assertTenantId } from './validate'

/**
 * Reads the allowed-tenant list from options, falling back to `AZURE_ADDITIONALLY_ALLOWED_TENANTS`
 * (`;`-separated), and returns it lower-cased.
 */
export function allowedTenants(fromOptions: readonly string[] | undefined): string[] {
  const list = fromOptions ?? readEnv(ENV_ADDITIONALLY_ALLOWED_TENANTS)?.split(';') ?? []
  return list.map((tenant) => tenant.trim().toLowerCase()).filter((tenant) => tenant !== '')
}

/**
 * Decides which tenant one call uses, with the same multi-tenant rule as `@azure/identity`: a
 * per-call `tenantId` other than the configured one is refused unless it is listed in
 * `additionallyAllowedTenants`, or that list holds `*`.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a refused or malformed tenant.
 */
export function resolveTenant(configured: string, requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined || requested.toLowerCase() === configured.toLowerCase()) return configured
  assertTenantId(requested, 'getToken options.tenantId')
  if (allowed.includes('*') || allowed.includes(requested.toLowerCase())) return requested
  throw new AzcredError(
    'AZCRED_CONFIG_INVALID',
    `getToken asked for tenant "${requested}", which this credential may not use: add it (or "*") to additionallyAllowedTenants, or to ${ENV_ADDITIONALLY_ALLOWED_TENANTS}`,
  )
}
