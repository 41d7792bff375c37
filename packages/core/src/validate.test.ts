import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { AzcredError } from './azcred-error'
import { assertAppOnlyTenant, assertTenantId, checkNumber, MAX_SCOPE_LENGTH, MAX_SCOPES, normalizeAuthorityHost, normalizeScopes } from './validate'

/** The planted value is absent from everything a user might print or log. */
function expectNoSecret(error: unknown, planted: string): void {
  expect(AzcredError.isInstance(error)).toBe(true)
  for (const view of [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error)]) expect(view).not.toContain(planted)
}

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
    for (const value of [undefined, null, 42, {}, ['a'], Symbol('x')]) expect(codeOf(() => assertTenantId(value))).toBe('AZCRED_CONFIG_INVALID')
  })
  it('refuses more than 256 characters', () => {
    expect(codeOf(() => assertTenantId('a'.repeat(256)))).toBeUndefined()
    expect(codeOf(() => assertTenantId('a'.repeat(257)))).toBe('AZCRED_CONFIG_INVALID')
  })
  it('never echoes the value (a secret passed as tenantId), only the position of a bad character', () => {
    const secrets = ['Xy8Q~planted.Secret_Value~abcdefghijklmnopq', 'plantedSecretValue'.repeat(20), 'planted secret', 'planted/../secret', '-planted-secret']
    for (const secret of secrets) {
      try {
        assertTenantId(secret)
        expect.unreachable()
      } catch (error) {
        expectNoSecret(error, secret)
        expectNoSecret(error, 'planted')
      }
    }
    expect(() => assertTenantId('Xy8Q~abc')).toThrow(/^tenantId must be a tenant GUID or domain .*: character 5 is not allowed$/)
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
  it('accepts a string or a list, returning a new array', () => {
    const list = ['a', 'b']
    expect(normalizeScopes('https://vault.azure.net/.default')).toEqual(['https://vault.azure.net/.default'])
    expect(normalizeScopes(list)).toEqual(['a', 'b'])
    expect(normalizeScopes(list)).not.toBe(list)
    expect(normalizeScopes(['x'.repeat(MAX_SCOPE_LENGTH)])).toHaveLength(1)
    expect(normalizeScopes(Array(MAX_SCOPES).fill('a'))).toHaveLength(MAX_SCOPES)
  })
  it.each([
    [[]],
    [''],
    [['ok', '']],
    [' https://vault.azure.net/.default'],
    ['https://vault.azure.net/.default\n'],
    ['a b'],
    ['a\tb'],
    ['a\rb'],
    ['a\0b'],
    ['a\u0085b'],
    ['a\u00a0b'],
    ['a\u2028b'],
    ['a\u200bb'],
    ['a\u202eb'],
    ['x'.repeat(MAX_SCOPE_LENGTH + 1)],
    [Array(MAX_SCOPES + 1).fill('a')],
    [undefined],
    [null],
    [42],
    [{ 0: 'a', length: 1 }],
    [[undefined]],
    [[null]],
    [[42]],
  ])('refuses %j', (scopes) => {
    expect(codeOf(() => normalizeScopes(scopes))).toBe('AZCRED_CONFIG_INVALID')
  })
  it('names the index and the position, never the value', () => {
    const planted = 'planted-scope-secret'
    for (const scopes of [[`ok`, `${planted}\n${planted}`], [`${planted}`.repeat(100)]]) {
      try {
        normalizeScopes(scopes)
        expect.unreachable()
      } catch (error) {
        expectNoSecret(error, planted)
      }
    }
    expect(() => normalizeScopes(['ok', 'abc def'])).toThrow(
      'scopes[1] must be 1 to 1024 characters without whitespace or control characters: character 4 is not allowed',
    )
  })
})

describe('checkNumber', () => {
  it('passes undefined and numbers in range through', () => {
    expect(checkNumber(undefined, 'x', 10)).toBeUndefined()
    expect(checkNumber(0, 'x', 10)).toBe(0)
    expect(checkNumber(10, 'x', 10, 1)).toBe(10)
  })
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 11, 1e10, '5', null, true, [5], {}])(
    'refuses %j, naming the option and range',
    (value) => {
      expect(() => checkNumber(value, 'retry.maxAttempts', 10, 0)).toThrow('retry.maxAttempts must be a number from 0 to 10')
    },
  )
})

describe('assertAppOnlyTenant', () => {
  it.each(['common', 'organizations', 'consumers', 'Common', 'ORGANIZATIONS'])('refuses %j, saying an app-only flow needs a tenant id or domain', (tenant) => {
    expect(() => assertAppOnlyTenant(tenant)).toThrow(
      `tenantId (or AZURE_TENANT_ID) is ${tenant.toLowerCase()}: an app-only flow needs the tenant GUID or domain`,
    )
  })
  it.each(['72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com', 'common.contoso.com', 'commons'])('accepts %j', (tenant) => {
    expect(codeOf(() => assertAppOnlyTenant(tenant))).toBeUndefined()
  })
})
