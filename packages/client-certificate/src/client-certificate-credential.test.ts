import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { AzcredError } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
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

const blocks = (pem: string) => pem.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----\n?/g) ?? []
const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
const x5tS256 = (pem: string) => createHash('sha256').update(der(pem)).digest('base64url')
// The chain fixture is root (P-256 CA), intermediate (P-256 CA), leaf (RSA, the key of rsa.key), in that order.
const [chainRoot = '', chainIntermediate = '', chainLeaf = ''] = blocks(fixture('chain-leaf-last.pem'))

/** Runs `create`, expects AZCRED_CONFIG_INVALID with `message`, and no trace of `secrets` anywhere in the error. */
function expectRefused(create: () => unknown, message: string | RegExp, secrets: string[] = []): AzcredError {
  let caught: unknown
  try {
    create()
  } catch (error) {
    caught = error
  }
  expect(AzcredError.isInstance(caught)).toBe(true)
  expect(caught).toMatchObject({
    code: 'AZCRED_CONFIG_INVALID',
    message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message),
  })
  const seen = [(caught as Error).message, (caught as Error).stack ?? '', JSON.stringify(caught), inspect(caught, { depth: 10 })].join('\n')
  for (const secret of ['-----BEGIN', ...secrets]) expect(seen).not.toContain(secret)
  return caught as AzcredError
}

const pkcs8 = (type: 'ed25519' | 'ec', extra = {}) =>
  generateKeyPairSync(type as 'ec', extra as { namedCurve: string })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()

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

  it('signs RS256 on request and sends x5c with sendCertificateChain', async () => {
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
  })

  it("finds the leaf when it is last (key, root, leaf as PFX and Key Vault export it): the token comes with that certificate's thumbprint", async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const pem = `${fixture('rsa.key')}${chainRoot}${fixture('rsa.crt')}`
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: pem }, options())
    expect(decodeJwt((await credential.getToken(SCOPE)).token).azp).toBe(app.clientId)
    expect(decodeProtectedHeader(lastAssertion())['x5t#S256']).toBe(x5tS256(fixture('rsa.crt')))
  })

  it('puts a root, intermediate, leaf, key PEM in x5c order: leaf, then its issuer, then the root', async () => {
    const app = emulator.registerApp({ certificates: [chainLeaf] })
    const pem = `${fixture('chain-leaf-last.pem')}${fixture('rsa.key')}`
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, pem, options({ sendCertificateChain: true }))
    await expect(credential.getToken(SCOPE)).resolves.toHaveProperty('token')
    const header = decodeProtectedHeader(lastAssertion())
    expect(header['x5t#S256']).toBe(x5tS256(chainLeaf))
    expect(header.x5t).toBe(createHash('sha1').update(der(chainLeaf)).digest('base64url'))
    expect(header.x5c).toEqual([chainLeaf, chainIntermediate, chainRoot].map((pem) => der(pem).toString('base64')))
    // Intermediate before root even when the PEM lists them the other way round.
    const shuffled = `${chainIntermediate}${fixture('rsa.key')}${chainRoot}${chainLeaf}`
    await new ClientCertificateCredential(app.tenantId, app.clientId, shuffled, options({ sendCertificateChain: true })).getToken(SCOPE)
    expect(decodeProtectedHeader(lastAssertion()).x5c).toEqual([chainLeaf, chainIntermediate, chainRoot].map((pem) => der(pem).toString('base64')))
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
    ['a key that does not match', () => ({ certificate: `${fixture('rsa.key')}${fixture('expired.crt')}` }), 'belongs to none of the certificates'],
    ['an RSA key with an EC certificate', () => ({ certificate: `${fixture('rsa.key')}${fixture('ec.crt')}` }), 'belongs to none of the certificates'],
    [
      'an RSA key with only the CA certificates of its chain',
      () => ({ certificate: `${chainRoot}${chainIntermediate}${fixture('rsa.key')}` }),
      'belongs to none',
    ],
    ['an EC (P-256) key and certificate', () => ({ certificate: fixture('ec-combined.pem') }), 'Entra ID accepts only RSA certificate credentials'],
    ['an EC key with an RSA certificate', () => ({ certificate: `${fixture('ec.key')}${fixture('rsa.crt')}` }), 'only RSA'],
    [
      'an EC key in SEC1 form',
      () => ({ certificate: `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n${fixture('ec.crt')}` }),
      'only RSA',
    ],
    ['an Ed25519 key', () => ({ certificate: `${pkcs8('ed25519')}${fixture('rsa.crt')}` }), 'only RSA'],
    ['a P-384 key', () => ({ certificate: `${pkcs8('ec', { namedCurve: 'P-384' })}${fixture('rsa.crt')}` }), 'only RSA'],
    ['null', () => null, 'no PEM found'],
    ['an object without certificate', () => ({ certificatePath: '/etc/cert.pem' }), 'no PEM found'],
    ['an expired certificate', () => ({ certificate: `${fixture('expired.key')}${fixture('expired.crt')}` }), 'expired on 2020-02-01'],
    [
      'an encrypted key without the Node entry',
      () => ({ certificate: `${fixture('rsa-encrypted.key')}${fixture('rsa.crt')}` }),
      '@azcred/client-certificate/node',
    ],
    ['broken base64', () => ({ certificate: `${fixture('rsa.key')}-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n` }), 'not valid base64'],
    ['a path in the runtime-agnostic entry', () => '/etc/cert.pem', 'Node entry'],
  ])('%s', (_name, certificate, message) => {
    expectRefused(() => new ClientCertificateCredential('contoso.onmicrosoft.com', 'client', certificate() as never), message, [keyBody])
  })

  it.each([
    ['PS512', { algorithm: 'PS512' }],
    ['none', { algorithm: 'none' }],
    ['ES256', { algorithm: 'ES256' }],
  ])('refuses algorithm %s', (_name, extra) => {
    expectRefused(
      () => new ClientCertificateCredential('contoso.onmicrosoft.com', 'client', fixture('rsa-combined.pem'), extra as never),
      'algorithm must be PS256 or RS256',
    )
  })

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 0, -600, 1e10, 3601, 1.5, '600'])('refuses assertionLifetimeSeconds %s', (value) => {
    expectRefused(
      () => new ClientCertificateCredential('contoso.onmicrosoft.com', 'client', fixture('rsa-combined.pem'), { assertionLifetimeSeconds: value as number }),
      'assertionLifetimeSeconds must be a whole number of seconds from 1 to 3600',
    )
  })
})

describe('a damaged or incomplete RSA key is AZCRED_CONFIG_INVALID, never a bare DOMException or TypeError', () => {
  // The nine integers of rsa.key's RSAPrivateKey (version, n, e, d, p, q, dP, dQ, qInv), to build damaged copies from.
  const jwk = createPrivateKey(fixture('rsa.key')).export({ format: 'jwk' })
  const unsigned = (value = '') => {
    const bytes = Buffer.from(value, 'base64url')
    return (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes
  }
  const integers = () => [Buffer.from([0]), ...[jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi].map(unsigned)]
  const length = (size: number) => (size < 128 ? [size] : size < 256 ? [0x81, size] : [0x82, size >> 8, size & 255])
  const element = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag, ...length(content.length)]), content])
  const rsaKey = (parts: Buffer[], tags: number[] = []) => element(0x30, Buffer.concat(parts.map((part, index) => element(tags[index] ?? 2, part))))
  const armour = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`
  const asPkcs1 = (der: Buffer) => `${armour('RSA PRIVATE KEY', der)}${fixture('rsa.crt')}`
  const asPkcs8 = (der: Buffer) =>
    `${armour('PRIVATE KEY', element(0x30, Buffer.concat([element(2, Buffer.from([0])), Buffer.from('300d06092a864886f70d0101010500', 'hex'), element(4, der)])))}${fixture('rsa.crt')}`
  const withParts = (change: (parts: Buffer[]) => void) => {
    const parts = integers()
    change(parts)
    return rsaKey(parts)
  }
  const d = unsigned(jwk.d).toString('base64').slice(8, 40)

  it.each([
    ['only version, the modulus and 1 (the reviewer key)', () => rsaKey([Buffer.from([0]), unsigned(jwk.n), Buffer.from([1])])],
    ['qInv missing (eight integers)', () => withParts((parts) => parts.pop())],
    ['a tenth integer', () => withParts((parts) => parts.push(Buffer.from([7])))],
    ['version 1 (multi-prime) without the other primes', () => withParts((parts) => parts.splice(0, 1, Buffer.from([1])))],
    ['an empty integer', () => withParts((parts) => parts.splice(4, 1, Buffer.alloc(0)))],
    ['an octet string where d belongs', () => rsaKey(integers(), [2, 2, 2, 4])],
  ])('%s: refused at construction, as PKCS#1 and as PKCS#8', (_name, build) => {
    for (const certificate of [asPkcs1(build()), asPkcs8(build())]) {
      expectRefused(
        () => new ClientCertificateCredential('contoso.onmicrosoft.com', 'client', { certificate }),
        'certificate: the private key is damaged or incomplete: export it again',
        [d],
      )
    }
  })

  it('the Node entry says the same, with or without certificatePassword (the key is damaged, not wrongly decrypted)', () => {
    const certificate = asPkcs1(rsaKey([Buffer.from([0]), unsigned(jwk.n), Buffer.from([1])]))
    for (const certificatePassword of [undefined, 'planted-password']) {
      expectRefused(
        () => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', { certificate, certificatePassword }),
        'certificate: the private key is damaged or incomplete',
        ['planted-password'],
      )
    }
  })

  it('the complete key rebuilt the same way is accepted (the builder above is right)', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: asPkcs1(rsaKey(integers())) }, options())
    await expect(credential.getToken(SCOPE)).resolves.toHaveProperty('token')
  })

  it('an RSA key under 2048 bits is refused at construction (jose would refuse to sign with it at every getToken)', () => {
    expectRefused(
      () => new ClientCertificateCredential('contoso.onmicrosoft.com', 'client', { certificate: fixture('rsa-1024-combined.pem') }),
      'certificate: the RSA key has fewer than 2048 bits, which Entra ID needs: create a new certificate',
    )
  })

  it('a whole key WebCrypto still cannot sign with (p = 0) rejects getToken with AZCRED_CONFIG_INVALID each time, without key material', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const credential = new ClientCertificateCredential(
      app.tenantId,
      app.clientId,
      { certificate: asPkcs1(withParts((parts) => parts.splice(4, 1, Buffer.from([0])))) },
      options(),
    )
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await credential.getToken(SCOPE).catch((caught: unknown) => caught)
      expect(AzcredError.isInstance(error)).toBe(true)
      expect(error).toMatchObject({
        code: 'AZCRED_CONFIG_INVALID',
        message: 'certificate: WebCrypto refused the key: the private key is damaged or incomplete: export it again',
      })
      const seen = [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n')
      expect(seen).not.toContain(d)
      expect((error as Error).cause).toBeUndefined()
    }
    expect(emulator.requestsTo('/token')).toHaveLength(0)
  })

  it('a failed key import is not kept: the next getToken imports again and succeeds', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const credential = new ClientCertificateCredential(app.tenantId, app.clientId, { certificate: fixture('rsa-combined.pem') }, options())
    const importKey = vi.spyOn(crypto.subtle, 'importKey').mockRejectedValueOnce(new DOMException('Invalid keyData', 'DataError'))
    try {
      await expect(credential.getToken(SCOPE)).rejects.toMatchObject({
        code: 'AZCRED_CONFIG_INVALID',
        message: 'certificate: WebCrypto refused the key: the private key is damaged or incomplete: export it again',
      })
      await expect(credential.getToken(SCOPE)).resolves.toHaveProperty('token')
    } finally {
      importKey.mockRestore()
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
    expectRefused(
      () => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', '/nonexistent/cert.pem'),
      'certificatePath cannot be read (ENOENT): pass the path of a PEM file this process may read (the value is not shown)',
      ['/nonexistent/cert.pem'],
    )
  })

  it('takes PEM text given as the string argument as the certificate itself, as the runtime-agnostic entry does', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const credential = new NodeClientCertificateCredential(app.tenantId, app.clientId, fixture('rsa-combined.pem'), options())
    await expect(credential.getToken(SCOPE)).resolves.toHaveProperty('token')
  })

  it('refuses an EC key from a file too (Entra ID accepts only RSA)', () => {
    expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', fixturePath('ec-combined.pem')), 'only RSA')
  })

  describe('never echoes key material or a token passed where a path belongs', () => {
    const pem = fixture('rsa-combined.pem')
    const keyLine = pem.split('\n')[3] ?? 'unused'
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXN1YmplY3QifQ.c2lnbmF0dXJlLXBsYW50ZWQ'
    const secret = 'Xy98Q~plantedClientSecretValue1234567890ab'
    it.each([
      [
        'PEM text as certificatePath',
        { certificatePath: pem },
        'certificatePath looks like PEM content, not a path: pass it as `certificate` instead',
        [keyLine],
      ],
      [
        'PEM text with a password as certificatePath',
        { certificatePath: pem, certificatePassword: 'planted-password' },
        'looks like PEM content',
        [keyLine, 'planted-password'],
      ],
      ['a key body without armour', { certificatePath: keyLine }, 'certificatePath cannot be read (ENOENT)', [keyLine]],
      ['a JWT', { certificatePath: jwt }, 'certificatePath cannot be read (ENOENT)', [jwt, 'c2lnbmF0dXJl']],
      ['a client secret', { certificatePath: secret }, 'certificatePath cannot be read (ENOENT)', [secret]],
      ['a path with a newline and a secret after it', { certificatePath: `/tmp/cert.pem\n${secret}` }, 'certificatePath cannot be read', [secret]],
      ['an empty path', { certificatePath: '' }, 'certificatePath is empty', []],
      ['a path that is not a string', { certificatePath: 42 }, 'certificatePath is empty', []],
    ])('%s', (_name, configuration, message, secrets) => {
      expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', configuration as never), message, secrets as string[])
    })
    it('a JWT or secret as the string argument', () => {
      expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', jwt), 'certificatePath cannot be read (ENOENT)', [jwt])
      expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', secret), 'certificatePath cannot be read (ENOENT)', [secret])
    })

    // No pattern tells a path from a secret: these look like paths and were once echoed.
    it.each([
      ['an API key, 32 hex digits', '3f9a1c0e5b7d4e2f8a6c1b0d9e7f5a3c'],
      ['a GUID-shaped secret', '7d3c9f2e-1a4b-4c5d-8e6f-0a1b2c3d4e5f'],
      ['39 letters and digits', `Zq${'a1'.repeat(18)}b`],
      ['a passphrase with spaces', 'correct horse battery staple 2024'],
      ['a JWT without the eyJ header', 'abc.ZGVmZ2hpams.sig-value_x'],
      ['an ordinary-looking path', '/etc/app/secret-7d3c9f2e/cert.pem'],
    ])('%s is never echoed, as the string argument or certificatePath', (_name, value) => {
      const message = 'certificatePath cannot be read (ENOENT): pass the path of a PEM file this process may read (the value is not shown)'
      expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', value), message, [value])
      expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', { certificatePath: value }), message, [value])
    })

    it('names the system code and the fix for a folder, a file used as a folder, and a NUL byte', () => {
      const folder = fixturePath('')
      expectRefused(
        () => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', folder),
        'certificatePath cannot be read (EISDIR): pass the path of a PEM file this process may read (the value is not shown)',
        [folder],
      )
      const underFile = `${fixturePath('rsa.key')}/cert.pem`
      expectRefused(() => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', underFile), 'cannot be read (ENOTDIR)', [underFile])
      expectRefused(
        () => new NodeClientCertificateCredential('contoso.onmicrosoft.com', 'client', '/tmp/planted\0secret'),
        'certificatePath cannot be read (ERR_INVALID_ARG_VALUE)',
        ['planted'],
      )
    })
  })
})

it('the README names only environment variables the official libraries read', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const official = [
    'AZURE_TENANT_ID',
    'AZURE_CLIENT_ID',
    'AZURE_AUTHORITY_HOST',
    'AZURE_CLIENT_CERTIFICATE_PATH',
    'AZURE_CLIENT_CERTIFICATE_PASSWORD',
    'AZURE_CLIENT_SEND_CERTIFICATE_CHAIN',
  ]
  const named = new Set(readme.match(/\bAZURE_[A-Z_]+/g))
  expect([...named].filter((name) => !official.includes(name))).toEqual([])
  expect(named).toContain('AZURE_CLIENT_CERTIFICATE_PATH')
})
