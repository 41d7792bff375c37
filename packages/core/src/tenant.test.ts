import { afterEach, describe, expect, it, vi } from 'vitest'
import { allowedTenants, resolveTenant } from './tenant'

describe('resolveTenant', () => {
  const home = '72f988bf-86f1-41af-91ab-2d7cd011db47'
  const other = '11111111-2222-3333-4444-555555555555'
  it('uses the configured tenant when the call names none or the same one', () => {
    expect(resolveTenant(home, undefined, [])).toBe(home)
    expect(resolveTenant(home, home.toUpperCase(), [])).toBe(home)
  })
  it('switches only to listed tenants, or any with *', () => {
    expect(() => resolveTenant(home, other, [])).toThrow(/additionallyAllowedTenants/)
    expect(resolveTenant(home, other, [other])).toBe(other)
    expect(resolveTenant(home, other, ['*'])).toBe(other)
  })
  it('refuses a malformed per-call tenant even with *', () => {
    expect(() => resolveTenant(home, '../evil', ['*'])).toThrow(/tenantId/)
  })
  it('refuses a per-call tenant of the wrong type with AZCRED_CONFIG_INVALID, not a TypeError', () => {
    for (const value of [42, null, {}, ['x']]) {
      expect(() => resolveTenant(home, value as unknown as string, ['*'])).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    }
  })
  it('never repeats the requested tenant in a refusal', () => {
    const requested = 'plantedsecretlookingtenant'
    expect(() => resolveTenant(home, requested, [])).toThrow(
      'getToken options.tenantId is not allowed: add it (or "*") to additionallyAllowedTenants or AZURE_ADDITIONALLY_ALLOWED_TENANTS',
    )
    expect(() => resolveTenant(home, `${requested}~x`, [])).toThrow(expect.objectContaining({ message: expect.not.stringContaining('planted') }))
  })
})

describe('allowedTenants', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })
  it('prefers options, then AZURE_ADDITIONALLY_ALLOWED_TENANTS', () => {
    vi.stubEnv('AZURE_ADDITIONALLY_ALLOWED_TENANTS', 'A;b ; ')
    expect(allowedTenants(undefined)).toEqual(['a', 'b'])
    expect(allowedTenants(['C'])).toEqual(['c'])
  })
  it('refuses an option that is not an array', () => {
    for (const value of ['a;b', 42, {}]) {
      expect(() => allowedTenants(value as unknown as string[])).toThrow('additionallyAllowedTenants must be an array of tenant ids (or "*")')
    }
  })
})
