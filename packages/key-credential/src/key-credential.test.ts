import { inspect } from 'node:util'
import { isKeyCredential, isNamedKeyCredential, isSASCredential } from '@azure/core-auth'
import { describe, expect, it } from 'vitest'
import { AzureKeyCredential, AzureNamedKeyCredential, AzureSASCredential, AzureSasCredential } from './index'

const PLANTED = 'planted-secret-value-0123456789'
const SAS = `sv=2025-01-05&ss=b&srt=co&sp=rl&se=2030-01-01T00%3A00%3A00Z&spr=https&sig=${encodeURIComponent(`${PLANTED}+/=`)}`

function everythingShown(value: unknown): string {
  return [JSON.stringify(value), inspect(value, { depth: 10, showHidden: true }), String(value)].join('\n')
}

describe('shapes @azure/core-auth accepts', () => {
  it('each credential passes core-auth type guard', () => {
    expect(isKeyCredential(new AzureKeyCredential(PLANTED))).toBe(true)
    expect(isNamedKeyCredential(new AzureNamedKeyCredential('account', PLANTED))).toBe(true)
    expect(isSASCredential(new AzureSasCredential(SAS))).toBe(true)
  })

  it("exports the official spelling AzureSASCredential: the same class, accepted by core-auth's isSASCredential", () => {
    const official = new AzureSASCredential(SAS)
    expect(AzureSASCredential).toBe(AzureSasCredential)
    expect(isSASCredential(official)).toBe(true)
    expect(official).toBeInstanceOf(AzureSasCredential)
    expect(new URL(official.apply('https://account.blob.core.windows.net/c/b.txt')).searchParams.get('sig')).toBe(`${PLANTED}+/=`)
    expect(() => new AzureSASCredential(`sv=2025-01-05&sp=r&skoid=${PLANTED}`)).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    expect(everythingShown(official)).not.toContain(PLANTED)
  })
})

describe('AzureKeyCredential', () => {
  it('carries the header name and rotates the key', () => {
    const credential = new AzureKeyCredential('first', { header: 'Ocp-Apim-Subscription-Key' })
    expect([credential.header, credential.key]).toEqual(['Ocp-Apim-Subscription-Key', 'first'])
    credential.update('second')
    expect(credential.key).toBe('second')
    expect(new AzureKeyCredential('k').header).toBe('api-key')
  })

  it('refuses an empty key or a bad header name, saying what to pass', () => {
    expect(() => new AzureKeyCredential('  ')).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('key is empty') }),
    )
    expect(() => new AzureKeyCredential('k', { header: 'api key' })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('not a valid header name') }),
    )
    expect(() => new AzureKeyCredential('k').update('')).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
  })

  it('never shows the key', () => {
    expect(everythingShown(new AzureKeyCredential(PLANTED))).not.toContain(PLANTED)
  })
})

describe('AzureNamedKeyCredential', () => {
  it('rotates name and key together and shows only the name', () => {
    const credential = new AzureNamedKeyCredential('account', PLANTED)
    credential.update('account2', `${PLANTED}-secondary`)
    expect([credential.name, credential.key]).toEqual(['account2', `${PLANTED}-secondary`])
    expect(JSON.stringify(credential)).toBe('{"name":"account2"}')
    expect(everythingShown(credential)).not.toContain(PLANTED)
    expect(() => new AzureNamedKeyCredential('', PLANTED)).toThrow(expect.objectContaining({ message: expect.stringContaining('name is empty') }))
  })
})

describe('AzureSasCredential', () => {
  it('appends the SAS to a URL, keeping its other parameters', () => {
    const applied = new URL(new AzureSasCredential(`?${SAS}`).apply('https://account.blob.core.windows.net/c?restype=container&comp=list'))
    expect(applied.searchParams.get('comp')).toBe('list')
    expect(applied.searchParams.get('restype')).toBe('container')
    expect(applied.searchParams.get('sp')).toBe('rl')
    expect(applied.searchParams.get('sig')).toBe(`${PLANTED}+/=`)
  })

  it('replaces a SAS already on the URL, and a rotated SAS replaces the old one', () => {
    const credential = new AzureSasCredential(SAS)
    const once = credential.apply('https://account.blob.core.windows.net/c/b.txt?sv=2019-01-01&sig=old&sp=w')
    expect(new URL(once).searchParams.getAll('sig')).toEqual([`${PLANTED}+/=`])
    expect(new URL(once).searchParams.getAll('sp')).toEqual(['rl'])
    credential.update('sv=2025-01-05&sp=r&sig=rotated')
    expect(new URL(credential.apply(once)).searchParams.getAll('sig')).toEqual(['rotated'])
    expect(credential.signature).toBe('sv=2025-01-05&sp=r&sig=rotated')
  })

  it('refuses a SAS without sig and a relative URL, without echoing the SAS', () => {
    const failure = (() => {
      try {
        new AzureSasCredential(`sv=2025-01-05&sp=r&skoid=${PLANTED}`)
      } catch (error) {
        return error
      }
    })()
    expect(failure).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('no sig parameter') })
    expect(everythingShown(failure)).not.toContain(PLANTED)
    expect(() => new AzureSasCredential(SAS).apply('/c/b.txt')).toThrow(expect.objectContaining({ message: expect.stringContaining('absolute URL') }))
  })

  it('never shows the signature', () => {
    expect(everythingShown(new AzureSasCredential(SAS))).not.toContain(PLANTED)
  })
})
