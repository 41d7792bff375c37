import { describe, expect, it } from 'vitest'
import { AzcredError } from './azcred-error'
import { assertTenantId, normalizeAuthorityHost, normalizeScopes } from './validate'

function codeOf(action: () => unknown): string | undefined {
  try {
    action()
  } catch (error) {
    return AzcredError.isInstance(error) ? error.code : 'not an AzcredError'
  }
  return undefined
}

describe('assertTenantId', () => {
  it.each(['72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com', 'common', 'organizations', 'a'])('accepts %j', (tenant) => {
    expect(codeOf(() => assertTenantId(tenant))).toBeUndefined()
  })
  it.each(['../x', 'a/b', '', '  ', '..', 'x..y', '.hidden', 'tenant%2f', 'a b', 'a?b', 'a#b', 'a\\b'])('refuses %j', (tenant) => {
    expect(codeOf(() => assertTenantId(tenant))).toBe('AZCRED_CONFIG_INVALID')
  })
  it('refuses non-strings', () => {
    expect(codeOf(() => assertTenantId(undefined))).toBe('AZCRED_CONFIG_INVALID')
    expect(codeOf(() => assertTenantId(42))).toBe('AZCRED_CONFIG_INVALID')
  })
})

describe('normalizeAuthorityHost', () => {
  it('keeps https hosts, dropping a trailing slash and keeping a path (ADFS)', () => {
    expect(normalizeAuthorityHost('https://login.microsoftonline.us/')).toBe('https://login.microsoftonline.us')
    expect(normalizeAuthorityHost('https://adfs.contoso.com/adfs/')).toBe('https://adfs.contoso.com/adfs')
  })
  it('allows http only for loopback and only when asked', () => {
    expect(codeOf(() => normalizeAuthorityHost('http://localhost:8080'))).toBe('AZCRED_CONFIG_INVALID')
    expect(normalizeAuthorityHost('http://localhost:8080', { allowInsecureConnection: true })).toBe('http://localhost:8080')
    expect(normalizeAuthorityHost('http://[::1]:8080', { allowInsecureConnection: true })).toBe('http://[::1]:8080')
    expect(normalizeAuthorityHost('http://127.0.0.2', { allowInsecureConnection: true })).toBe('http://127.0.0.2')
    expect(codeOf(() => normalizeAuthorityHost('http://login.example.invalid', { allowInsecureConnection: true }))).toBe('AZCRED_CONFIG_INVALID')
  })
  it.each(['not a url', 'ftp://login.example.invalid', 'https://login.example.invalid/?x=1', 'https://user:pw@login.example.invalid'])(
    'refuses %j',
    (value) => {
      expect(codeOf(() => normalizeAuthorityHost(value))).toBe('AZCRED_CONFIG_INVALID')
    },
  )
  it('never echoes credentials embedded in the URL', () => {
    try {
      normalizeAuthorityHost('https://user:planted-password@login.example.invalid')
    } catch (error) {
      expect((error as Error).message).not.toContain('planted-password')
    }
  })
})

describe('normalizeScopes', () => {
  it('accepts a string or a list and trims', () => {
    expect(normalizeScopes(' https://vault.azure.net/.default ')).toEqual(['https://vault.azure.net/.default'])
    expect(normalizeScopes(['a', 'b'])).toEqual(['a', 'b'])
  })
  it.each([[[]], [''], [['ok', '']], [[' ']]])('refuses %j', (scopes) => {
    expect(codeOf(() => normalizeScopes(scopes as string[]))).toBe('AZCRED_CONFIG_INVALID')
  })
})
