import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AzcredError } from '@azcred/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { azcredConfigPath, azcredDefaults, ENV_AZCRED_CONFIG, readAzcredConfig } from './index'

let folder: string
let path: string
const saved = { ...process.env }

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'azcred-manifest-'))
  path = join(folder, 'config.json')
  for (const name of [ENV_AZCRED_CONFIG, 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_AUTHORITY_HOST']) delete process.env[name]
})
afterEach(() => {
  rmSync(folder, { recursive: true, force: true })
  for (const name of [ENV_AZCRED_CONFIG, 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_AUTHORITY_HOST']) {
    if (saved[name] === undefined) delete process.env[name]
    else process.env[name] = saved[name]
  }
})

const write = (content: unknown, mode = 0o600) => writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content), { mode })

function refusal(run: () => unknown): AzcredError {
  try {
    run()
  } catch (error) {
    if (AzcredError.isInstance(error)) return error
    throw error
  }
  throw new Error('no error')
}

describe('readAzcredConfig', () => {
  it('reads the documented fields; a missing file is {}', () => {
    expect(readAzcredConfig({ path })).toEqual({})
    write({ version: 1, tenantId: 'contoso.onmicrosoft.com', clientId: 'app-id', defaultFlow: 'device-code', cloud: 'AzureUSGovernment' })
    expect(readAzcredConfig({ path })).toEqual({
      tenantId: 'contoso.onmicrosoft.com',
      clientId: 'app-id',
      defaultFlow: 'device-code',
      cloud: 'AzureUSGovernment',
    })
    // AZCRED_CONFIG names the file; the default is config.json in the user config directory.
    process.env[ENV_AZCRED_CONFIG] = path
    expect(readAzcredConfig().clientId).toBe('app-id')
    delete process.env[ENV_AZCRED_CONFIG]
    expect(azcredConfigPath()).toMatch(/azcred[/\\]config\.json$/)
  })

  it('never holds a secret: a secret-looking field is refused without showing its value', () => {
    for (const field of ['clientSecret', 'password', 'refreshToken', 'privateKey', 'certificatePath']) {
      write({ tenantId: 't', [field]: 'PLANTED-SECRET-VALUE' })
      const error = refusal(() => readAzcredConfig({ path }))
      expect(error.code).toBe('AZCRED_CONFIG_INVALID')
      expect(error.message).toContain(`"${field}" that looks like a secret`)
      expect(error.message).toContain(path)
      expect(error.message).not.toContain('PLANTED-SECRET-VALUE')
    }
  })

  it('refuses unknown fields, bad values, non-JSON, a newer version, and a file others can change', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ tenant: 'x' }, /unknown field "tenant"/],
      [{ defaultFlow: 'magic' }, /defaultFlow/],
      [{ cloud: 'http://evil.example' }, /not https/],
      [{ tenantId: 'has space' }, /printable string/],
      [{ version: 2 }, /version/],
      ['{ not json', /is not JSON/],
      [[1, 2], /not a JSON object/],
    ]
    for (const [content, pattern] of cases) {
      write(content)
      expect(refusal(() => readAzcredConfig({ path })).message).toMatch(pattern)
    }
    write({ tenantId: 't' })
    chmodSync(path, 0o666)
    expect(refusal(() => readAzcredConfig({ path })).message).toMatch(/writable by other users \(mode 0666; run "chmod 644/)
  })
})

describe('azcredDefaults', () => {
  it('options win over environment variables, which win over the manifest', () => {
    write({ tenantId: 'manifest-tenant', clientId: 'manifest-client', defaultFlow: 'device-code', cloud: 'AzureChinaCloud' })
    expect(azcredDefaults({}, { path })).toEqual({
      tenantId: 'manifest-tenant',
      clientId: 'manifest-client',
      defaultFlow: 'device-code',
      cloud: 'AzureChinaCloud',
      sources: { tenantId: 'manifest', clientId: 'manifest', defaultFlow: 'manifest', cloud: 'manifest' },
    })
    process.env.AZURE_TENANT_ID = 'env-tenant'
    process.env.AZURE_AUTHORITY_HOST = 'https://login.microsoftonline.us'
    const defaults = azcredDefaults({ clientId: 'option-client' }, { path })
    expect(defaults).toMatchObject({ tenantId: 'env-tenant', clientId: 'option-client', cloud: 'https://login.microsoftonline.us', defaultFlow: 'device-code' })
    expect(defaults.sources).toEqual({ tenantId: 'environment', clientId: 'option', cloud: 'environment', defaultFlow: 'manifest' })
  })
})
