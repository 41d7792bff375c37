// Proves the emulator's user flows are faithful enough for the official libraries: @azure/identity's
// DeviceCodeCredential and OnBehalfOfCredential, and @azure/msal-node's acquireTokenByCode with PKCE, get
// tokens from it through the endpoints they call on their own (metadata, /devicecode, /authorize, /token).
import { DeviceCodeCredential, OnBehalfOfCredential } from '@azure/identity'
import { CryptoProvider, type INetworkModule, type NetworkResponse, PublicClientApplication } from '@azure/msal-node'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator } from './index'

let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: 1 })
})
afterAll(async () => {
  await emulator.close()
})

/** Points an official credential at the emulator (its options type lacks disableInstanceDiscovery for OBO, which MSAL still honours). */
const officialOptions = () => ({ authorityHost: emulator.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: emulator.certificate } })

describe('official @azure/identity', () => {
  it('DeviceCodeCredential: the prompt gets the user code, polling waits while pending, and one sign-in serves a second resource by refresh token', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const user = emulator.addUser({ username: 'device.user@contoso.onmicrosoft.com', name: 'Device User' })
    const prompts: string[] = []
    const credential = new DeviceCodeCredential({
      tenantId: app.tenantId,
      clientId: app.clientId,
      authorityHost: emulator.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.certificate },
      userPromptCallback: (info) => {
        prompts.push(info.message)
        setTimeout(() => emulator.deviceCodes.approve(info.userCode, user.username), 300) // the user types the code a bit later
      },
    })

    const token = await credential.getToken('api://orders/Orders.Read')

    expect(decodeJwt(token.token)).toMatchObject({ aud: 'api://orders', scp: 'Orders.Read', oid: user.oid, tid: user.tenantId, azp: app.clientId })
    expect(prompts).toHaveLength(1)
    const code = emulator.deviceCodes.latest()
    expect(prompts[0]).toContain(code?.userCode)
    expect(code?.status).toBe('redeemed')
    expect(code?.polls.length).toBeGreaterThanOrEqual(2) // at least one authorization_pending, then the tokens
    const polls = emulator.requestsTo('/oauth2/v2.0/token').filter((request) => request.form.grant_type === 'device_code') // MSAL's spelling
    expect(polls).toHaveLength(code?.polls.length ?? -1)
    expect(polls[0]?.form).toMatchObject({ client_id: app.clientId, client_info: '1' })

    const storage = await credential.getToken('https://storage.azure.com/.default')
    expect(decodeJwt(storage.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid })
    expect(prompts).toHaveLength(1) // no second sign-in
    expect(emulator.requestsTo('/oauth2/v2.0/devicecode')).toHaveLength(1)
    expect(emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form).toMatchObject({ grant_type: 'refresh_token', client_id: app.clientId })
  })

  it("DeviceCodeCredential with the official defaults (tenant 'organizations', the Azure CLI's client id)", async () => {
    const app = emulator.registerApp({ publicClient: true, clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' })
    const user = emulator.addUser({ username: 'defaults.user@contoso.onmicrosoft.com' })
    const credential = new DeviceCodeCredential({
      ...officialOptions(),
      userPromptCallback: (info) => emulator.deviceCodes.approve(info.userCode, user.username),
    })
    const token = await credential.getToken('https://management.azure.com/.default')
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://management.azure.com', oid: user.oid, tid: user.tenantId, azp: app.clientId })
    expect(emulator.requestsTo('/organizations/oauth2/v2.0/devicecode')).toHaveLength(1)
  })

  it('DeviceCodeCredential sees a declined sign-in as an error', async () => {
    const app = emulator.registerApp({ publicClient: true })
    const credential = new DeviceCodeCredential({
      tenantId: app.tenantId,
      clientId: app.clientId,
      authorityHost: emulator.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.certificate },
      userPromptCallback: (info) => emulator.deviceCodes.deny(info.userCode),
    })
    await expect(credential.getToken('api://orders/Orders.Read')).rejects.toThrow(/authorization_declined|declined/)
  })

  it("OnBehalfOfCredential exchanges a user's token for the API for a downstream token", async () => {
    const api = emulator.registerApp({ identifierUris: ['api://orders-api'] })
    const user = emulator.addUser({ username: 'obo.user@contoso.onmicrosoft.com' })
    const userAssertionToken = await emulator.issueUserToken({ username: user.username, audience: 'api://orders-api', scopes: ['Orders.Read'] })
    const credential = new OnBehalfOfCredential({
      tenantId: api.tenantId,
      clientId: api.clientId,
      clientSecret: api.clientSecret,
      userAssertionToken,
      ...officialOptions(),
    })

    const token = await credential.getToken('https://storage.azure.com/.default')

    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid, azp: api.clientId, scp: 'user_impersonation' })
    expect(emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: api.clientId,
    })
  })

  it('OnBehalfOfCredential sees the emulator refuse an assertion for another audience (AADSTS50013)', async () => {
    const api = emulator.registerApp()
    emulator.addUser({ username: 'obo.other@contoso.onmicrosoft.com' })
    const credential = new OnBehalfOfCredential({
      tenantId: api.tenantId,
      clientId: api.clientId,
      clientSecret: api.clientSecret,
      userAssertionToken: await emulator.issueUserToken({ username: 'obo.other@contoso.onmicrosoft.com', audience: 'api://not-this-api' }),
      ...officialOptions(),
    })
    await expect(credential.getToken('https://storage.azure.com/.default')).rejects.toThrow(/AADSTS50013/)
  })
})

/** msal-node's network module over the emulator's trusting fetch (MSAL has no CA option of its own). */
function emulatorNetwork(): INetworkModule {
  const send = async <T>(url: string, method: 'GET' | 'POST', options?: { headers?: Record<string, string>; body?: string }): Promise<NetworkResponse<T>> => {
    const response = await emulator.fetch(url, {
      method,
      ...(options?.headers ? { headers: options.headers } : {}),
      ...(options?.body ? { body: options.body } : {}),
    })
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    return { status: response.status, headers, body: (await response.json()) as T }
  }
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  }
}

describe('official @azure/msal-node', () => {
  it('PublicClientApplication: getAuthCodeUrl with PKCE (S256), sign-in on the emulator page, acquireTokenByCode', async () => {
    const app = emulator.registerApp({ publicClient: true, redirectUris: ['http://localhost/redirect'] })
    const user = emulator.addUser({
      username: 'browser.user@contoso.onmicrosoft.com',
      name: 'Browser User',
      consentedResources: ['https://storage.azure.com'], // not api://orders: the page asks for it
    })
    const client = new PublicClientApplication({
      auth: { clientId: app.clientId, authority: `${emulator.url}/${app.tenantId}`, knownAuthorities: [new URL(emulator.url).host] },
      system: { networkClient: emulatorNetwork() },
    })
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes()
    const redirectUri = 'http://localhost:3874/redirect'
    const scopes = ['api://orders/Orders.Read']

    const authorizeUrl = await client.getAuthCodeUrl({
      scopes,
      redirectUri,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state: 'msal-state',
      loginHint: user.username,
    })
    expect(new URL(authorizeUrl).pathname).toBe(`/${app.tenantId}/oauth2/v2.0/authorize`)
    const signIn = await emulator.signInAtAuthorize(authorizeUrl, { username: user.username })
    expect(signIn.consentShown).toBe(true)
    const redirect = new URL(signIn.location ?? '')
    expect(redirect.searchParams.get('state')).toBe('msal-state')

    const result = await client.acquireTokenByCode({ code: redirect.searchParams.get('code') ?? '', scopes, redirectUri, codeVerifier: verifier })

    expect(decodeJwt(result.accessToken)).toMatchObject({ aud: 'api://orders', scp: 'Orders.Read', oid: user.oid, azp: app.clientId })
    expect(result.account).toMatchObject({
      homeAccountId: `${user.oid}.${user.tenantId}`,
      username: user.username,
      tenantId: user.tenantId,
      name: 'Browser User',
    })
    expect(result.idTokenClaims).toMatchObject({ oid: user.oid, preferred_username: user.username })
    const redemption = emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form
    expect(redemption).toMatchObject({ grant_type: 'authorization_code', code_verifier: verifier, client_info: '1' })

    // The same account, silently, for a second resource: MSAL redeems the refresh token the emulator issued.
    const silent = await client.acquireTokenSilent({ account: result.account ?? (undefined as never), scopes: ['https://storage.azure.com/.default'] })
    expect(decodeJwt(silent.accessToken)).toMatchObject({ aud: 'https://storage.azure.com', oid: user.oid })
  })

  it('acquireTokenByCode with a wrong verifier is refused (AADSTS501481)', async () => {
    const app = emulator.registerApp({ publicClient: true, redirectUris: ['http://localhost/redirect'] })
    const user = emulator.addUser({ username: 'browser.wrong@contoso.onmicrosoft.com' })
    const client = new PublicClientApplication({
      auth: { clientId: app.clientId, authority: `${emulator.url}/${app.tenantId}`, knownAuthorities: [new URL(emulator.url).host] },
      system: { networkClient: emulatorNetwork() },
    })
    const crypto = new CryptoProvider()
    const { challenge } = await crypto.generatePkceCodes()
    const other = await crypto.generatePkceCodes()
    const redirectUri = 'http://localhost:3875/redirect'
    const url = await client.getAuthCodeUrl({ scopes: ['User.Read'], redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256' })
    const code = new URL((await emulator.signInAtAuthorize(url, { username: user.username })).location ?? '').searchParams.get('code') ?? ''
    await expect(client.acquireTokenByCode({ code, scopes: ['User.Read'], redirectUri, codeVerifier: other.verifier })).rejects.toThrow(/AADSTS501481/)
  })
})
