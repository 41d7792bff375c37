import { build } from 'esbuild'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { AzureChinaCloud, AzureGermanCloud, AzurePublicCloud, AzureUSGovernment, cloudFromEnvironment, defineCloud, findCloud, KNOWN_CLOUDS } from './index'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('the cloud table', () => {
  it('has the sovereign authority hosts and token-exchange audiences', () => {
    expect(AzurePublicCloud.authorityHost).toBe('https://login.microsoftonline.com')
    expect(AzureUSGovernment.authorityHost).toBe('https://login.microsoftonline.us')
    expect(AzureChinaCloud.authorityHost).toBe('https://login.chinacloudapi.cn')
    expect(AzureGermanCloud.authorityHost).toBe('https://login.microsoftonline.de')
    expect(AzureUSGovernment.tokenExchangeAudience).toBe('api://AzureADTokenExchangeUSGov')
    expect(AzureChinaCloud.tokenExchangeAudience).toBe('api://AzureADTokenExchangeChina')
    expect(AzureGermanCloud.retired).toBe(true)
  })
  it('derives every scope from its endpoint', () => {
    for (const cloud of KNOWN_CLOUDS) {
      expect(cloud.resourceManagerScope).toBe(`${cloud.resourceManagerEndpoint}/.default`)
      expect(cloud.graphScope).toBe(`${cloud.graphEndpoint}/.default`)
      expect(cloud.keyVaultScope).toBe(`https://${cloud.keyVaultSuffix}/.default`)
      expect(cloud.sqlScope).toBe(`https://${cloud.sqlServerSuffix}/.default`)
    }
  })
})

describe('cloudFromEnvironment', () => {
  it('defaults to the public cloud', () => {
    vi.stubEnv('AZURE_AUTHORITY_HOST', '')
    expect(cloudFromEnvironment()).toBe(AzurePublicCloud)
  })
  it('matches AZURE_AUTHORITY_HOST by host, with or without a trailing slash', () => {
    vi.stubEnv('AZURE_AUTHORITY_HOST', 'https://login.microsoftonline.us/')
    expect(cloudFromEnvironment()).toBe(AzureUSGovernment)
  })
  it('refuses an unknown host and the retired German cloud with clear messages', () => {
    vi.stubEnv('AZURE_AUTHORITY_HOST', 'https://login.example.invalid')
    expect(() => cloudFromEnvironment()).toThrow(/defineCloud/)
    vi.stubEnv('AZURE_AUTHORITY_HOST', 'https://login.microsoftonline.de')
    expect(() => cloudFromEnvironment()).toThrow(/retired/)
  })
  it('matches custom clouds', () => {
    const stack = defineCloud({
      name: 'Stack',
      authorityHost: 'https://adfs.stack.example.invalid/adfs/',
      resourceManagerEndpoint: 'https://management.stack.example.invalid/',
    })
    vi.stubEnv('AZURE_AUTHORITY_HOST', 'https://adfs.stack.example.invalid/adfs')
    expect(cloudFromEnvironment([stack])).toBe(stack)
    expect(findCloud('stack', [stack])).toBe(stack)
    expect(findCloud('azurechinacloud')).toBe(AzureChinaCloud)
  })
})

describe('defineCloud', () => {
  it('normalises and derives scopes', () => {
    const cloud = defineCloud({
      name: 'Custom',
      authorityHost: 'https://login.example.invalid/',
      resourceManagerEndpoint: 'https://arm.example.invalid/',
      keyVaultSuffix: 'vault.example.invalid',
    })
    expect(cloud.authorityHost).toBe('https://login.example.invalid')
    expect(cloud.resourceManagerScope).toBe('https://arm.example.invalid/.default')
    expect(cloud.keyVaultScope).toBe('https://vault.example.invalid/.default')
    expect(cloud.graphScope).toBe('')
  })
  it('refuses a plain-http authority and an empty name', () => {
    expect(() => defineCloud({ name: 'x', authorityHost: 'http://login.example.invalid', resourceManagerEndpoint: 'https://arm' })).toThrow(/https/)
    expect(() => defineCloud({ name: ' ', authorityHost: 'https://login.example.invalid', resourceManagerEndpoint: 'https://arm' })).toThrow(/name/)
  })
})

describe('tree shaking', () => {
  it('a program importing one cloud bundles none of the others', async () => {
    const result = await build({
      stdin: {
        contents: "import { AzureUSGovernment } from './index'; console.log(AzureUSGovernment.authorityHost)",
        resolveDir: import.meta.dirname,
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      minify: true,
      platform: 'neutral',
      external: ['@azcred/core'],
    })
    const code = result.outputFiles[0]?.text ?? ''
    expect(code).toContain('login.microsoftonline.us')
    expect(code).not.toContain('chinacloudapi')
    expect(code).not.toContain('microsoftonline.de')
    expect(code).not.toContain('login.microsoftonline.com')
  })
})
