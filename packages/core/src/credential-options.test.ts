import { inspect } from 'node:util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type EntraCredentialOptions, resolveAuthorityHost } from './credential-options'

const GOV = { authorityHost: 'https://login.microsoftonline.us' }

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('resolveAuthorityHost', () => {
  it('uses the authorityHost option, then AZURE_AUTHORITY_HOST, then cloud.authorityHost, then the public cloud', () => {
    vi.stubEnv('AZURE_AUTHORITY_HOST', '')
    expect(resolveAuthorityHost({})).toBe('https://login.microsoftonline.com')
    expect(resolveAuthorityHost({ cloud: GOV })).toBe('https://login.microsoftonline.us')
    vi.stubEnv('AZURE_AUTHORITY_HOST', 'https://login.chinacloudapi.cn/')
    expect(resolveAuthorityHost({})).toBe('https://login.chinacloudapi.cn')
    // The official override wins over a cloud chosen in code, as in @azure/identity.
    expect(resolveAuthorityHost({ cloud: GOV })).toBe('https://login.chinacloudapi.cn')
    expect(resolveAuthorityHost({ cloud: GOV, authorityHost: 'https://login.example.test' })).toBe('https://login.example.test')
  })

  it('names the source of a bad host', () => {
    vi.stubEnv('AZURE_AUTHORITY_HOST', 'http://login.example.test')
    expect(() => resolveAuthorityHost({ cloud: GOV })).toThrow(/^AZURE_AUTHORITY_HOST must be an https: URL/)
    expect(() => resolveAuthorityHost({ authorityHost: 'ftp://x' })).toThrow(/^authorityHost must be an https: URL/)
    vi.stubEnv('AZURE_AUTHORITY_HOST', '')
    expect(() => resolveAuthorityHost({ cloud: { authorityHost: 'nope' } })).toThrow(/^cloud.authorityHost must be an https: URL/)
  })

  it.each([
    [null, 'options must be an object'],
    ['secret', 'options must be an object'],
    [{ cloud: 'AzureUSGovernment' }, 'cloud must be a cloud from @azcred/clouds'],
    [{ cloud: null }, 'cloud must be a cloud from @azcred/clouds'],
    [{ fetch: 'fetch' }, 'fetch must be a function'],
    [{ authorityHost: 42 }, 'authorityHost must be an https: URL'],
  ])('refuses options of the wrong type (%j) with AZCRED_CONFIG_INVALID, not a TypeError', (options, message) => {
    expect(() => resolveAuthorityHost(options as unknown as EntraCredentialOptions)).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) }),
    )
  })

  it('never echoes a bad value', () => {
    const planted = 'planted-secret'
    for (const options of [planted, { cloud: planted }, { fetch: planted }, { authorityHost: `https://user:${planted}@x.test` }, { authorityHost: planted }]) {
      try {
        resolveAuthorityHost(options as unknown as EntraCredentialOptions)
        expect.unreachable()
      } catch (error) {
        for (const view of [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error)]) expect(view).not.toContain(planted)
      }
    }
  })
})
