import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { type ClientAuthenticationContext, MemoryTokenCache, requestTokenGrant } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientCertificateCredential, clientCertificateAuthentication } from './index'
import { clientCertificateAuthentication as nodeClientCertificateAuthentication } from './node'

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')
const fixturePath = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname
const SCOPE = 'https://vault.azure.net/.default'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const x5tS256 = (pem: string) =>
  createHash('sha256')
    .update(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'))
    .digest('base64url')
let emulator: EntraEmulator
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

const context: ClientAuthenticationContext = {
  tenantId: 'contoso.onmicrosoft.com',
  authorityHost: 'https://login.microsoftonline.com',
  clientId: '2c1b0e4f-1111-4a4a-9b9b-0123456789ab',
  forceRefresh: false,
}
const assertionOf = async (fields: Promise<Record<string, string>> | Record<string, string>) => {
  const { client_assertion_type: type, client_assertion: assertion = '', ...rest } = await fields
  expect(type).toBe(JWT_BEARER)
  expect(rest).toEqual({})
  return assertion
}

describe('clientCertificateAuthentication', () => {
  it('signs an assertion for the context: aud the tenant token endpoint, iss = sub = the client id, x5t#S256 of the certificate', async () => {
    const authentication = clientCertificateAuthentication({ certificate: fixture('rsa-combined.pem') })
    const assertion = await assertionOf(authentication.formFields(context))
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'PS256', typ: 'JWT', 'x5t#S256': x5tS256(fixture('rsa.crt')) })
    const claims = decodeJwt(assertion)
    expect(claims).toMatchObject({
      aud: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      iss: context.clientId,
      sub: context.clientId,
    })
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600)
    expect(authentication.hints?.[700027]).toMatch(/certificate/)
    expect(authentication.refreshOn).toBeUndefined()
  })

  it('reuses an assertion while fresh for the same token endpoint and client id only; forceRefresh signs a new one', async () => {
    const authentication = clientCertificateAuthentication(fixture('rsa-combined.pem'), { assertionLifetimeSeconds: 120 })
    const first = await assertionOf(authentication.formFields(context))
    expect(await assertionOf(authentication.formFields({ ...context }))).toBe(first)
    const otherTenant = await assertionOf(authentication.formFields({ ...context, tenantId: 'fabrikam.onmicrosoft.com' }))
    const otherClient = await assertionOf(authentication.formFields({ ...context, clientId: 'another-client' }))
    const otherAuthority = await assertionOf(authentication.formFields({ ...context, authorityHost: 'https://login.microsoftonline.us' }))
    expect(new Set([first, otherTenant, otherClient, otherAuthority]).size).toBe(4)
    expect(decodeJwt(otherTenant).aud).toBe('https://login.microsoftonline.com/fabrikam.onmicrosoft.com/oauth2/v2.0/token')
    expect(decodeJwt(otherClient)).toMatchObject({ iss: 'another-client', sub: 'another-client' })
    expect(decodeJwt(otherAuthority).aud).toBe('https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token')
    const forced = await assertionOf(authentication.formFields({ ...context, forceRefresh: true }))
    expect(forced).not.toBe(first)
    // The forced one replaces the reused one.
    expect(await assertionOf(authentication.formFields(context))).toBe(forced)
  })

  it('checks the certificate and options when made, as the credential does', () => {
    expect(() => clientCertificateAuthentication('/etc/cert.pem')).toThrow(/Node entry/)
    expect(() => clientCertificateAuthentication({ certificate: fixture('rsa-combined.pem') }, { algorithm: 'ES256' as never })).toThrow(
      'algorithm must be PS256 or RS256',
    )
    expect(() => clientCertificateAuthentication({ certificate: fixture('rsa.crt') })).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
  })

  it('never shows key material or an assertion through JSON.stringify or util.inspect', async () => {
    const pem = fixture('rsa-combined.pem')
    const authentication = clientCertificateAuthentication({ certificate: pem })
    const assertion = await assertionOf(authentication.formFields(context))
    const keyLine = fixture('rsa.key').split('\n')[3] ?? 'unused'
    for (const text of [JSON.stringify(authentication), inspect(authentication, { depth: 10, showHidden: true })]) {
      expect(text).not.toContain(keyLine)
      expect(text).not.toContain(assertion)
      expect(text).not.toContain('BEGIN')
    }
  })

  it('composes into requestTokenGrant: the emulator verifies the signature and the claims', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const response = await requestTokenGrant({
      authorityHost: emulator.authorityHost,
      clientId: app.clientId,
      request: { scopes: [SCOPE], tenantId: app.tenantId, claims: undefined, enableCae: false, background: false },
      grant: { grant_type: 'client_credentials' },
      clientAuthentication: clientCertificateAuthentication({ certificate: fixture('rsa-combined.pem') }, { algorithm: 'RS256' }),
      fetch: emulator.fetch,
    })
    expect(decodeJwt(response.accessToken.token)).toMatchObject({ aud: 'https://vault.azure.net', azp: app.clientId })
  })

  it('from the Node entry: a PEM file path, and an encrypted key with certificatePassword', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const grant = (clientAuthentication: ReturnType<typeof nodeClientCertificateAuthentication>) =>
      requestTokenGrant({
        authorityHost: emulator.authorityHost,
        clientId: app.clientId,
        request: { scopes: [SCOPE], tenantId: app.tenantId, claims: undefined, enableCae: false, background: false },
        grant: { grant_type: 'client_credentials' },
        clientAuthentication,
        fetch: emulator.fetch,
      })
    await expect(grant(nodeClientCertificateAuthentication(fixturePath('rsa-combined.pem')))).resolves.toHaveProperty('accessToken')
    const encrypted = `${fixture('rsa-encrypted.key')}${fixture('rsa.crt')}`
    await expect(
      grant(nodeClientCertificateAuthentication({ certificate: encrypted, certificatePassword: 'azcred-test-password' }, { sendCertificateChain: true })),
    ).resolves.toHaveProperty('accessToken')
    expect(() => nodeClientCertificateAuthentication({ certificate: encrypted, certificatePassword: 'planted-wrong-password' })).toThrow(
      'certificatePassword does not decrypt the private key',
    )
  })
})

describe('ClientCertificateCredential with a tokenCache', () => {
  it('two credentials sharing one cache: the second makes no request', async () => {
    const app = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
    const tokenCache = new MemoryTokenCache()
    const options = { authorityHost: emulator.authorityHost, fetch: emulator.fetch, tokenCache }
    const before = emulator.requestsTo('/token').length
    const first = await new ClientCertificateCredential(app.tenantId, app.clientId, fixture('rsa-combined.pem'), options).getToken(SCOPE)
    const second = await new ClientCertificateCredential(app.tenantId, app.clientId, fixture('rsa-combined.pem'), options).getToken(SCOPE)
    expect(second.token).toBe(first.token)
    expect(emulator.requestsTo('/token').length).toBe(before + 1)
  })
})
