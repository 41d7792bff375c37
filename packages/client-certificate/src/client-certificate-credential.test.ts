import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { AzcredError } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ClientCertificateCredential } from './index'
import { ClientCertificateCredential as NodeClientCertificateCredential } from './node'

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')
const fixturePath = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname
const SCOPE = 'https://vault.azure.net/.default'
let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})
beforeEach(() => {
  emulator.requests.length = 0
})

const options = (extra = {}) => ({ authorityHost: emulator.authorityHost, fetch: emulator.fetch, ...extra })
const lastAssertion = () => emulator.requestsTo('/token').at(-1)?.form.client_assertion ?? ''

describe('ClientCertificateCredential against the emulator, which verifies signature and claims', () => {
  it('signs a PS256 assertion with x5t#S256 and x5t, and the right aud/iss/sub/jti/exp', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: fixture('rsa-combined.pem') }, options())
    expect(decodeJwt((await credential.getToken(SCOPE)).token).aud).toBe('https://vault.azure.net')
    const assertion = lastAssertion()
    const header = decodeProtectedHeader(assertion)
    expect(header).toMatchObject({ alg: 'PS256', typ: 'JWT' })
    expect(header['x5t#S256']).toMatch(/^[\w-]{43}$/)
    expect(header.x5t).toMatch(/^[\w-]{27}$/)
    expect(header.x5c).toBeUndefined()
    const claims = decodeJwt(assertion)
    expect(claims).toMatchObject({ aud: `${emulator.authorityHost}/${app.tenantId}/oauth2/v2.0/token`, iss: app.clientId, sub: app.clientId })
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number(claims.exp) - Number(claims.nbf)).toBe(600)
  })

  it('reuses the signed assertion while it is fresh instead of signing per token', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: fixture('rsa-combined.pem') }, options())
    await credential.getToken(SCOPE)
    await credential.getToken('https://storage.azure.com/.default')
    const [first, second] = emulator.requestsTo('/token').map((request) => request.form.client_assertion)
    expect(second).toBe(first)
  })

  it('signs RS256 on request, ES256 for a P-256 key, and sends x5c with sendCertificateChain', async () => {
    const rsaApp = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    await new ClientCertificateCredential(
      rsaApp.tenantId,
      rsaApp.clientId,
      { certificate: fixture('rsa-combined.pem') },
      options({ algorithm: 'RS256', sendCertificateChain: true }),
    ).getToken(SCOPE)
    const rsaHeader = decodeProtectedHeader(lastAssertion())
    expect(rsaHeader.alg).toBe('RS256')
    expect(rsaHeader.x5c).toEqual([fixture('rsa.crt').replace(/-----[A-Z ]+-----|\s/g, '')])

    const ecApp = emulator.registerApp({ certificates: [fixture('ec.crt')] })
    await new ClientCertificateCredential(ecApp.tenantId, ecApp.clientId, { certificate: fixture('ec-combined.pem') }, options()).getToken(SCOPE)
    expect(decodeProtectedHeader(lastAssertion()).alg).toBe('ES256')
  })

  it('accepts a PKCS#1 RSA key', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const pem = `${fixture('rsa-pkcs1.key')}${fixture('rsa.crt')}`
    await expect(new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: pem }, options()).getToken(SCOPE)).resolves.toHaveProperty('token')
  })

  it('is refused (AADSTS700027) when the certificate is not the one registered', async () => {
    const app = emulator.registerApp({ certificates: [fixture('ec.crt')] })
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: fixture('rsa-combined.pem') }, options())
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ aadstsCode: 'AADSTS700027', message: expect.stringContaining('upload this certificate') })
  })
})

describe('bad certificates fail at construction with AZCRED_CONFIG_INVALID and no key material', () => {
  const keyBody = fixture('rsa.key').split('\n')[5] ?? 'unused'
  it.each([
    ['no PEM at all', () => ({ certificate: 'hello' }), 'no PEM found'],
    ['a certificate without its key', () => ({ certificate: fixture('rsa.crt') }), 'no private key'],
    ['a key without a certificate', () => ({ certificate: fixture('rsa.key') }), 'no certificate'],
    ['a key that does not match', () => ({ certificate: `${fixture('rsa.key')}${fixture('expired.crt')}` }), 'does not belong'],
    ['an RSA key with an EC certificate', () => ({ certificate: `${fixture('rsa.key')}${fixture('ec.crt')}` }), 'does not belong'],
    ['an expired certificate', () => ({ certificate: `${fixture('expired.key')}${fixture('expired.crt')}` }), 'expired on 2020-02-01'],
    [
      'an encrypted key without the Node entry',
      () => ({ certificate: `${fixture('rsa-encrypted.key')}${fixture('rsa.crt')}` }),
      '@azcred/client-certificate/node',
    ],
    ['broken base64', () => ({ certificate: `${fixture('rsa.key')}-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n` }), 'not valid base64'],
    ['a path in the runtime-agnostic entry', () => '/etc/cert.pem', 'Node entry'],
  ])('%s', (_name, certificate, message) => {
    let caught: unknown
    try {
      new ClientCertificateCredential('contoso.onmicrosoft.com', 'client', certificate() as never)
    } catch (error) {
      caught = error
    }
    expect(AzcredError.isInstance(caught)).toBe(true)
    expect(caught).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) })
    for (const text of [(caught as Error).message, (caught as Error).stack ?? '', JSON.stringify(caught), inspect(caught, { depth: 10 })]) {
      expect(text).not.toContain(keyBody)
      expect(text).not.toContain('-----BEGIN')
    }
  })
})

describe('the Node entry', () => {
  it('reads a PEM file path and decrypts an encrypted key with certificatePassword', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    await expect(
      new NodeClientCertificateCredential(app.tenantId, app.clientId, fixturePath('rsa-combined.pem'), options()).getToken(SCOPE),
    ).resolves.toHaveProperty('token')
    const encrypted = `${fixture('rsa-encrypted.key')}${fixture('rsa.crt')}`
    const credential = new NodeClientCertificateCredential(
      app.tenantId,
      app.clientId,
      { certificate: encrypted, certificatePassword: 'azcred-test-password' },
      options(),
    )
    await expect(credential.getToken(SCOPE)).resolves.toHaveProperty('token')
  })

  it('refuses a wrong password and a missing file clearly, without echoing the password', () => {
    const encrypted = `${fixture('rsa-encrypted.key')}${fixture('rsa.crt')}`
    let caught: unknown
    try {
      new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', { certificate: encrypted, certificatePassword: 'planted-wrong-password' })
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: 'certificatePassword does not decrypt the private key' })
    expect(JSON.stringify(caught) + inspect(caught)).not.toContain('planted-wrong-password')
    expect(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', '/nonexistent/cert.pem')).toThrow(/ENOENT/)
  })
})
