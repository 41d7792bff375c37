import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pkceMatches } from './grant-authorization-code'
import { type EntraEmulator, startEntraEmulator } from './index'
import { claimsOf, postForm } from './user-test-helpers'

let emulator: EntraEmulator
let userCount = 0

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

const newUser = (options: { consentedResources?: string[] } = {}) => {
  userCount += 1
  return emulator.addUser({ username: `page${userCount}@contoso.onmicrosoft.com`, name: `Page User ${userCount}`, ...options })
}
const verifier = () => randomBytes(32).toString('base64url')
const s256 = (value: string) => createHash('sha256').update(value).digest('base64url')

function authorizeUrl(clientId: string, parameters: Record<string, string> = {}, tenant = emulator.tenantId): string {
  const url = new URL(`${emulator.url}/${tenant}/oauth2/v2.0/authorize`)
  for (const [name, value] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: 'http://localhost:5555/callback',
    scope: 'api://orders/Orders.Read openid offline_access',
    state: 'st-123',
    ...parameters,
  }))
    url.searchParams.set(name, value)
  return url.toString()
}

const publicApp = () => emulator.registerApp({ publicClient: true, redirectUris: ['http://localhost/callback'] })
const redeem = (form: Record<string, string>) => postForm(emulator, 'token', { grant_type: 'authorization_code', ...form })

describe('authorize page', () => {
  it('shows a real HTML form with login_hint prefilled', async () => {
    const app = publicApp()
    const response = await emulator.fetch(authorizeUrl(app.clientId, { login_hint: 'ada@contoso.onmicrosoft.com' }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    const html = await response.text()
    expect(html).toContain(`<form method="post" action="/${emulator.tenantId}/oauth2/v2.0/authorize">`)
    expect(html).toContain('name="login" value="ada@contoso.onmicrosoft.com"')
    expect(html).toContain('type="password" name="passwd"')
  })

  it('signs in, asks consent when not consented, redirects with code and state; PKCE S256 redemption gives tokens with the nonce', async () => {
    const app = publicApp()
    const user = newUser({ consentedResources: [] })
    const codeVerifier = verifier()
    const signIn = await emulator.signInAtAuthorize(
      authorizeUrl(app.clientId, { code_challenge: s256(codeVerifier), code_challenge_method: 'S256', nonce: 'n-42' }),
      { username: user.username },
    )
    expect(signIn.consentShown).toBe(true)
    expect(signIn.status).toBe(302)
    const redirect = new URL(signIn.location ?? '')
    expect(`${redirect.origin}${redirect.pathname}`).toBe('http://localhost:5555/callback')
    expect(redirect.searchParams.get('state')).toBe('st-123')
    const code = redirect.searchParams.get('code') ?? ''
    expect(code).toMatch(/^emu-ac\./)

    // The port of a public client's loopback URI is ignored against the registered URIs, never against the
    // authorize request's: the redemption must repeat that URI exactly (RFC 6749 section 4.1.3).
    const otherPort = await redeem({ client_id: app.clientId, code, redirect_uri: 'http://localhost:6666/callback', code_verifier: codeVerifier })
    expect(otherPort.body).toMatchObject({ error: 'invalid_grant', error_codes: [500112] })
    const tokens = await redeem({
      client_id: app.clientId,
      code,
      redirect_uri: 'http://localhost:5555/callback',
      code_verifier: codeVerifier,
      scope: 'api://orders/Orders.Read openid offline_access',
      client_info: '1',
    })
    expect(tokens.status).toBe(200)
    expect(claimsOf(tokens.body)).toMatchObject({ aud: 'api://orders', scp: 'Orders.Read', oid: user.oid, tid: user.tenantId })
    expect(claimsOf(tokens.body, 'id_token')).toMatchObject({ aud: app.clientId, nonce: 'n-42', preferred_username: user.username, name: user.name })
    expect(tokens.body.refresh_token).toBeTruthy()
    expect(tokens.body.client_info).toBeTruthy()

    const second = await redeem({ client_id: app.clientId, code, redirect_uri: 'http://localhost:5555/callback', code_verifier: codeVerifier })
    expect(second.body).toMatchObject({ error: 'invalid_grant', error_codes: [54005] })

    const again = await emulator.signInAtAuthorize(authorizeUrl(app.clientId), { username: user.username })
    expect(again.consentShown).toBe(false) // consent remembered
  })

  it('checks PKCE: plain, a wrong verifier and a missing one (501481)', async () => {
    const app = publicApp()
    const user = newUser()
    const codeVerifier = verifier()
    const codeOf = async (parameters: Record<string, string>) =>
      new URL((await emulator.signInAtAuthorize(authorizeUrl(app.clientId, parameters), { username: user.username })).location ?? '').searchParams.get(
        'code',
      ) ?? ''
    const base = { client_id: app.clientId, redirect_uri: 'http://localhost:5555/callback' }

    const plain = await codeOf({ code_challenge: codeVerifier, code_challenge_method: 'plain' })
    expect((await redeem({ ...base, code: plain, code_verifier: codeVerifier })).status).toBe(200)
    const wrong = await codeOf({ code_challenge: s256(codeVerifier), code_challenge_method: 'S256' })
    expect((await redeem({ ...base, code: wrong, code_verifier: verifier() })).body).toMatchObject({ error: 'invalid_grant', error_codes: [501481] })
    expect((await redeem({ ...base, code: wrong })).body.error_codes).toEqual([501481])
    expect((await redeem({ ...base, code: wrong, code_verifier: codeVerifier })).status).toBe(200) // a failed attempt did not use the code
    expect(pkceMatches(s256('abc'), 'S256', 'abc')).toBe(true)
    expect(pkceMatches('abc', 'plain', 'abd')).toBe(false)
  })

  it('checks PKCE values as RFC 7636 defines them: a code_challenge of 43 to 128 unreserved characters (501491), a code_verifier too (501481)', async () => {
    const app = publicApp()
    const user = newUser()
    const refusedChallenge = async (challenge: string, method: string) => {
      const response = await emulator.fetch(authorizeUrl(app.clientId, { code_challenge: challenge, code_challenge_method: method }), { redirect: 'manual' })
      expect(response.status).toBe(302)
      const location = new URL(response.headers.get('location') ?? '')
      expect(location.searchParams.get('error')).toBe('invalid_request')
      expect(location.searchParams.get('error_description')).toMatch(/^AADSTS501491: /)
      expect(location.searchParams.get('state')).toBe('st-123')
    }
    await refusedChallenge('too-short', 'S256')
    await refusedChallenge('too-short', 'plain')
    await refusedChallenge('x'.repeat(129), 'plain')
    // Standard base64 with padding instead of base64url: not a valid S256 challenge.
    await refusedChallenge(createHash('sha256').update(verifier()).digest('base64'), 'S256')
    await refusedChallenge(`${'a'.repeat(42)} `, 'plain')

    // A verifier that is not 43 to 128 unreserved characters is refused even when its S256 hash matches.
    const shortVerifier = 'short-verifier'
    const signIn = await emulator.signInAtAuthorize(authorizeUrl(app.clientId, { code_challenge: s256(shortVerifier), code_challenge_method: 'S256' }), {
      username: user.username,
    })
    const code = new URL(signIn.location ?? '').searchParams.get('code') ?? ''
    expect(code).toMatch(/^emu-ac\./)
    const base = { client_id: app.clientId, code, redirect_uri: 'http://localhost:5555/callback' }
    expect((await redeem({ ...base, code_verifier: shortVerifier })).body).toMatchObject({ error: 'invalid_grant', error_codes: [501481] })
    const longest = 'v'.repeat(128)
    const good = await emulator.signInAtAuthorize(authorizeUrl(app.clientId, { code_challenge: s256(longest), code_challenge_method: 'S256' }), {
      username: user.username,
    })
    const goodCode = new URL(good.location ?? '').searchParams.get('code') ?? ''
    expect((await redeem({ ...base, code: goodCode, code_verifier: longest })).status).toBe(200)
  })

  it('refuses a redirect URI other than the authorize request (500112), a foreign client (70000), an unknown (9002313) or expired (70008) code', async () => {
    const app = emulator.registerApp({ publicClient: true, redirectUris: ['http://localhost/callback', 'http://localhost/other'] })
    const user = newUser()
    const codeOf = async () =>
      new URL((await emulator.signInAtAuthorize(authorizeUrl(app.clientId), { username: user.username })).location ?? '').searchParams.get('code') ?? ''
    const code = await codeOf()
    expect((await redeem({ client_id: app.clientId, code, redirect_uri: 'http://localhost:5555/other' })).body.error_codes).toEqual([500112])
    expect((await redeem({ client_id: publicApp().clientId, code, redirect_uri: 'http://localhost:5555/callback' })).body.error_codes).toEqual([70000])
    expect((await redeem({ client_id: app.clientId, code: 'emu-ac.nope', redirect_uri: 'http://localhost/callback' })).body.error_codes).toEqual([9002313])
    const late = await codeOf()
    expect(emulator.expireAuthorizationCodes()).toBeGreaterThanOrEqual(1)
    expect((await redeem({ client_id: app.clientId, code: late, redirect_uri: 'http://localhost/callback' })).body.error_codes).toEqual([70008])
  })

  it('a confidential client matches its redirect URI exactly and authenticates at redemption', async () => {
    const app = emulator.registerApp({ redirectUris: ['https://app.example.test/signin-oidc'] })
    const user = newUser()
    const other = await emulator.fetch(authorizeUrl(app.clientId, { redirect_uri: 'http://localhost:5555/callback' }))
    expect(other.status).toBe(400)
    expect(await other.text()).toContain('AADSTS50011')
    const signIn = await emulator.signInAtAuthorize(authorizeUrl(app.clientId, { redirect_uri: 'https://app.example.test/signin-oidc' }), {
      username: user.username,
    })
    const code = new URL(signIn.location ?? '').searchParams.get('code') ?? ''
    const form = { client_id: app.clientId, code, redirect_uri: 'https://app.example.test/signin-oidc' }
    expect((await redeem(form)).body.error_codes).toEqual([7000218])
    const tokens = await redeem({ ...form, client_secret: app.clientSecret })
    expect(tokens.status).toBe(200)
    expect(claimsOf(tokens.body)).toMatchObject({ azpacr: '1', azp: app.clientId })
  })

  it('Cancel on the sign-in page redirects with error=access_denied, error_subcode=cancel and the state; the flow is gone', async () => {
    const app = publicApp()
    const page = await emulator.fetch(authorizeUrl(app.clientId), { redirect: 'manual' })
    const html = await page.text()
    expect(html).toContain('name="action" value="cancel"')
    const flow = /name="flow" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const post = (action: string) =>
      emulator.fetch(`${emulator.url}/${emulator.tenantId}/oauth2/v2.0/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ flow, action }).toString(),
      })
    const cancelled = await post('cancel')
    expect(cancelled.status).toBe(302)
    const location = new URL(cancelled.headers.get('location') ?? '')
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'access_denied', error_subcode: 'cancel', state: 'st-123' })
    expect(location.searchParams.get('code')).toBeNull()
    expect((await post('cancel')).status).toBe(400) // the flow ended: no second answer
  })

  it('redirects errors with error, error_description and state: consent denied, prompt=none, bad response_type, two resources', async () => {
    const app = publicApp()
    const user = newUser({ consentedResources: [] })
    const denied = await emulator.signInAtAuthorize(authorizeUrl(app.clientId), { username: user.username, consent: 'deny' })
    const deniedUrl = new URL(denied.location ?? '')
    expect(deniedUrl.searchParams.get('error')).toBe('access_denied')
    expect(deniedUrl.searchParams.get('error_description')).toMatch(/^AADSTS65004: /)
    expect(deniedUrl.searchParams.get('state')).toBe('st-123')

    for (const [parameters, error, code] of [
      [{ prompt: 'none' }, 'login_required', 50058],
      [{ response_type: 'token' }, 'unsupported_response_type', 700054],
      [{ scope: 'api://a/X api://b/Y' }, 'invalid_scope', 28000],
      [{ code_challenge: 'x', code_challenge_method: 'S512' }, 'invalid_request', 501491],
    ] as const) {
      const response = await emulator.fetch(authorizeUrl(app.clientId, parameters), { redirect: 'manual' })
      expect(response.status).toBe(302)
      const location = new URL(response.headers.get('location') ?? '')
      expect(location.searchParams.get('error')).toBe(error)
      expect(location.searchParams.get('error_description')).toMatch(new RegExp(`^AADSTS${code}: `))
      expect(location.searchParams.get('state')).toBe('st-123')
    }
  })

  it('prompt=consent always asks; response_mode form_post and fragment', async () => {
    const app = publicApp()
    const user = newUser()
    const posted = await emulator.signInAtAuthorize(authorizeUrl(app.clientId, { response_mode: 'form_post', prompt: 'consent' }), { username: user.username })
    expect(posted.consentShown).toBe(true)
    expect(posted.status).toBe(200)
    expect(posted.formPost).toMatchObject({ state: 'st-123', code: expect.stringMatching(/^emu-ac\./) })
    expect(posted.page).toContain('<form method="post" action="http://localhost:5555/callback">')
    const fragment = await emulator.signInAtAuthorize(authorizeUrl(app.clientId, { response_mode: 'fragment' }), { username: user.username })
    const hash = new URLSearchParams(new URL(fragment.location ?? '').hash.slice(1))
    expect(hash.get('code')).toMatch(/^emu-ac\./)
    expect(new URL(fragment.location ?? '').searchParams.has('code')).toBe(false)
  })

  it('refuses a wrong password and an unknown user on the page, and an unknown app or redirect URI with an error page', async () => {
    const app = publicApp()
    const user = newUser()
    const wrong = await emulator.signInAtAuthorize(authorizeUrl(app.clientId), { username: user.username, password: 'not-it' })
    expect(wrong.status).toBe(200)
    expect(wrong.page).toContain('AADSTS50126')
    expect(wrong.page).not.toContain('not-it')
    const unknown = await emulator.signInAtAuthorize(authorizeUrl(app.clientId), { username: 'ghost@contoso.onmicrosoft.com', password: 'x' })
    expect(unknown.page).toContain('AADSTS50034')
    const noApp = await emulator.fetch(authorizeUrl('00000000-0000-0000-0000-000000000000'))
    expect(noApp.status).toBe(400)
    expect(await noApp.text()).toContain('AADSTS700016')
    const badRedirect = await emulator.fetch(authorizeUrl(app.clientId, { redirect_uri: 'https://evil.example.test/cb' }))
    expect(badRedirect.status).toBe(400)
    expect(await badRedirect.text()).toContain('AADSTS50011')
  })

  it('escapes what it echoes into the page', async () => {
    const app = publicApp()
    const html = await (await emulator.fetch(authorizeUrl(app.clientId, { login_hint: '"><script>alert(1)</script>' }))).text()
    expect(html).not.toContain('<script>alert(1)</script>')
  })
})
