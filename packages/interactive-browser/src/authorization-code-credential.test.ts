// AuthorizationCodeCredential against the Entra emulator: both official constructor shapes, PKCE via
// codeVerifier, confidential redemption by secret, certificate and assertion (core's ClientAuthentication),
// one redemption then silent refreshes, the refusals (54005 reuse, 500112 redirect URI, 501481 verifier),
// and no secret anywhere.
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { clientAssertionAuthentication } from '@azcred/client-assertion'
import { clientCertificateAuthentication } from '@azcred/client-certificate'
import type { TokenEvent } from '@azcred/core'
import { createOidcIssuer, type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthorizationCodeCredential } from './index'
import { createPkce } from './pkce'

let emulator: EntraEmulator
let userCount = 0
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator?.close()
})

const STORAGE = 'https://storage.azure.com/.default'
const VAULT = 'https://vault.azure.net/.default'
const WEB_REDIRECT = 'https://app.contoso.com/auth/callback'
const fixture = (name: string) => readFileSync(new URL(`../../client-certificate/src/__fixtures__/${name}`, import.meta.url), 'utf8')

const secrets = new Set<string>()
const exposed: string[] = []
function expose(value: unknown): void {
  if (value instanceof Error) exposed.push(value.message, String(value.stack))
  exposed.push(JSON.stringify(value) ?? '', inspect(value, { depth: 10, showHidden: true }))
}
const events: TokenEvent[] = []
const common = () => ({ authorityHost: emulator.authorityHost, fetch: emulator.fetch, onEvent: (event: TokenEvent) => events.push(event) })

/** A user signs in at the emulator's page for `app` and the app's redirect URI receives a code. */
async function codeFor(clientId: string, tenantId: string, redirectUri: string, challenge?: string): Promise<string> {
  userCount += 1
  const user = emulator.addUser({ username: `code${userCount}@contoso.onmicrosoft.com` })
  const url = new URL(`${emulator.url}/${tenantId}/oauth2/v2.0/authorize`)
  for (const [name, value] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: `${STORAGE} openid profile offline_access`,
    state: 'app-state',
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
  }))
    url.searchParams.set(name, value)
  const result = await emulator.signInAtAuthorize(url.toString(), { username: user.username })
  const code = new URL(result.location ?? '').searchParams.get('code') ?? ''
  expect(code).not.toBe('')
  secrets.add(code)
  return code
}

const tokenRequests = (clientId: string) => emulator.requestsTo('/oauth2/v2.0/token').filter((request) => request.form.client_id === clientId)

describe('AuthorizationCodeCredential (emulator)', () => {
  it('public client with codeVerifier (PKCE): redeems once, then a new audience from the refresh token', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const pkce = createPkce()
    secrets.add(pkce.verifier)
    const code = await codeFor(app.clientId, app.tenantId, 'http://localhost:3000/', pkce.challenge)
    const credential = new AuthorizationCodeCredential(app.tenantId, app.clientId, code, 'http://localhost:3000/', {
      ...common(),
      codeVerifier: pkce.verifier,
    })
    expose(credential)
    expect(credential.authenticationRecord).toBeUndefined()
    const storage = await credential.getToken(STORAGE)
    expect(decodeJwt(storage.token)).toMatchObject({ aud: 'https://storage.azure.com' })
    expect(credential.authenticationRecord?.homeAccountId).toMatch(/\./)
    const vault = await credential.getToken(VAULT)
    expect(decodeJwt(vault.token)).toMatchObject({ aud: 'https://vault.azure.net' })
    const sent = tokenRequests(app.clientId).map((request) => request.form)
    expect(sent.map((form) => form.grant_type)).toEqual(['authorization_code', 'refresh_token'])
    expect(sent[0]).toMatchObject({ code, code_verifier: pkce.verifier, redirect_uri: 'http://localhost:3000/', client_info: '1' })
    for (const form of sent) if (form.refresh_token) secrets.add(form.refresh_token)
  })

  it('a wrong or missing verifier is refused (AADSTS501481)', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const pkce = createPkce()
    for (const codeVerifier of [createPkce().verifier, undefined]) {
      const code = await codeFor(app.clientId, app.tenantId, 'http://localhost/', pkce.challenge)
      const credential = new AuthorizationCodeCredential(app.tenantId, app.clientId, code, 'http://localhost/', { ...common(), codeVerifier })
      const error = await credential.getToken(STORAGE).catch((caught: unknown) => caught)
      expose(error)
      expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS501481' })
    }
  })

  it('client secret (official 5-argument shape): redeemed with client_secret; a reused code → AADSTS54005; the code is sent once', async () => {
    const app = emulator.registerApp({ redirectUris: [WEB_REDIRECT] })
    secrets.add(app.clientSecret)
    const code = await codeFor(app.clientId, app.tenantId, WEB_REDIRECT)
    const credential = new AuthorizationCodeCredential(app.tenantId, app.clientId, app.clientSecret, code, WEB_REDIRECT, common())
    expose(credential)
    await credential.getToken(STORAGE)
    expect(tokenRequests(app.clientId)[0]?.form).toMatchObject({ grant_type: 'authorization_code', client_secret: app.clientSecret })
    // Refresh for a second audience carries the client authentication too.
    await credential.getToken(VAULT)
    expect(tokenRequests(app.clientId)[1]?.form).toMatchObject({ grant_type: 'refresh_token', client_secret: app.clientSecret })

    const again = new AuthorizationCodeCredential(app.tenantId, app.clientId, app.clientSecret, code, WEB_REDIRECT, common())
    const reused = await again.getToken(STORAGE).catch((caught: unknown) => caught)
    expose(reused)
    expect(reused).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS54005' })
    // The failed credential never sends its code again (no retry, no second redemption).
    const requests = tokenRequests(app.clientId).length
    const second = await again.getToken(STORAGE).catch((caught: unknown) => caught)
    expose(second)
    expect(second).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    expect(tokenRequests(app.clientId).length).toBe(requests)
  })

  it('the redirect URI must match the authorize request (AADSTS500112)', async () => {
    const app = emulator.registerApp({ redirectUris: [WEB_REDIRECT, 'https://app.contoso.com/other'] })
    const code = await codeFor(app.clientId, app.tenantId, WEB_REDIRECT)
    const credential = new AuthorizationCodeCredential(app.tenantId, app.clientId, app.clientSecret, code, 'https://app.contoso.com/other', common())
    const error = await credential.getToken(STORAGE).catch((caught: unknown) => caught)
    expose(error)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS500112' })
  })

  it('certificate: clientCertificateAuthentication composes (signed client assertion, no secret)', async () => {
    const app = emulator.registerApp({ redirectUris: [WEB_REDIRECT], certificates: [fixture('rsa.crt')] })
    const code = await codeFor(app.clientId, app.tenantId, WEB_REDIRECT)
    const credential = new AuthorizationCodeCredential(app.tenantId, app.clientId, code, WEB_REDIRECT, {
      ...common(),
      clientAuthentication: clientCertificateAuthentication(fixture('rsa-combined.pem')),
    })
    expose(credential)
    await credential.getToken(STORAGE)
    await credential.getToken(VAULT)
    const forms = tokenRequests(app.clientId).map((request) => request.form)
    expect(forms.map((form) => form.grant_type)).toEqual(['authorization_code', 'refresh_token'])
    for (const form of forms) {
      expect(form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      expect(form.client_secret).toBeUndefined()
      secrets.add(form.client_assertion ?? '')
    }
  })

  it('assertion: clientAssertionAuthentication composes (a federated assertion)', async () => {
    const issuer = await createOidcIssuer('https://token.actions.githubusercontent.com')
    emulator.trustIssuer(issuer.issuer, issuer.jwks)
    const subject = 'repo:contoso/web:environment:production'
    const app = emulator.registerApp({ redirectUris: [WEB_REDIRECT], federatedCredentials: [{ issuer: issuer.issuer, subject }] })
    const code = await codeFor(app.clientId, app.tenantId, WEB_REDIRECT)
    const credential = new AuthorizationCodeCredential(app.tenantId, app.clientId, code, WEB_REDIRECT, {
      ...common(),
      clientAuthentication: clientAssertionAuthentication(() => issuer.issue({ subject, audience: 'api://AzureADTokenExchange' })),
    })
    const token = await credential.getToken(STORAGE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', azp: app.clientId })
    expect(tokenRequests(app.clientId)[0]?.form.client_assertion).toMatch(/^ey/)
  })

  it('a confidential app without client authentication is refused by Entra (AADSTS7000218), a secret and clientAuthentication together by the constructor', async () => {
    const app = emulator.registerApp({ redirectUris: [WEB_REDIRECT] })
    const code = await codeFor(app.clientId, app.tenantId, WEB_REDIRECT)
    const error = await new AuthorizationCodeCredential(app.tenantId, app.clientId, code, WEB_REDIRECT, common()).getToken(STORAGE).catch((caught) => caught)
    expose(error)
    expect(error).toMatchObject({ aadstsCode: 'AADSTS7000218' })
    expect(
      () =>
        new AuthorizationCodeCredential(app.tenantId, app.clientId, 'secret', 'code', WEB_REDIRECT, {
          clientAuthentication: { formFields: () => ({}) },
        }),
    ).toThrowError(/not both/)
    for (const args of [
      [app.tenantId, '', 'code', WEB_REDIRECT],
      [app.tenantId, app.clientId, '', WEB_REDIRECT],
      [app.tenantId, app.clientId, 'code', ''],
      [app.tenantId, app.clientId, '', 'code', WEB_REDIRECT],
      [app.tenantId, app.clientId, 'code', WEB_REDIRECT, { codeVerifier: '' }],
    ]) {
      expect(() => new (AuthorizationCodeCredential as unknown as new (...a: unknown[]) => unknown)(...args)).toThrowError(
        expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }),
      )
    }
  })

  it('no code, verifier, secret, assertion or token in any error, event or util.inspect output', () => {
    for (const event of events) expose(event)
    for (const request of emulator.requestsTo('/oauth2/v2.0/token')) for (const value of Object.values(request.form)) if (value.length > 20) secrets.add(value)
    const text = exposed.join('\n')
    expect(secrets.size).toBeGreaterThan(5)
    for (const secret of secrets) if (secret.length > 20 && !/^(https?|urn):/.test(secret)) expect(text.includes(secret), 'a secret was exposed').toBe(false)
  })
})
