import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EasyAuthFrontDoor, NONCE_COOKIE, SESSION_COOKIE, startEasyAuthFrontDoor } from './easy-auth-front-door'

let emulator: EntraEmulator
let frontDoor: EasyAuthFrontDoor
let upstream: Server
let seen: IncomingHttpHeaders[] = []
const ada = { username: 'ada@contoso.onmicrosoft.com', password: 'ada-password-1' }

beforeAll(async () => {
  emulator = await startEntraEmulator()
  emulator.addUser(ada)
  // The "app": echoes which headers reached it.
  upstream = createServer((request, response) => {
    seen.push(request.headers)
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.end(`app saw ${request.url}`)
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const appUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  frontDoor = await startEasyAuthFrontDoor({
    authorityHost: emulator.url,
    tenantId: emulator.tenantId,
    fetch: emulator.fetch,
    register: (redirectUri) => emulator.registerApp({ redirectUris: [redirectUri] }),
    upstream: appUrl,
    anonymousPaths: ['/public'],
  })
})

afterAll(async () => {
  await frontDoor?.close()
  await new Promise((resolve) => upstream?.close(resolve))
  await emulator?.close()
})

/** The `name=value` pairs a response sets. */
function setCookies(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => line.split(';')[0] as string)
}

/** Starts a sign-in: the authorize URL and the nonce cookie the browser keeps for the callback. */
async function startSignIn(returnTo = '/'): Promise<{ authorize: string; nonce: string; location: string }> {
  const start = await fetch(`${frontDoor.url}/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(returnTo)}`, { redirect: 'manual' })
  expect(start.status).toBe(302)
  const nonce = setCookies(start).find((pair) => pair.startsWith(`${NONCE_COOKIE}=`)) as string
  expect(nonce).toMatch(new RegExp(`^${NONCE_COOKIE}=[\\w-]{32}$`))
  return { authorize: start.headers.get('location') as string, nonce, location: '' }
}

/** Plays the browser: /.auth/login/aad → the emulator's sign-in page → the callback; returns the session cookie. */
async function signIn(user: { username: string; password: string }, returnTo = '/', expectedReturn = returnTo): Promise<string> {
  const { authorize, nonce } = await startSignIn(returnTo)
  expect(authorize).toMatch(/code_challenge_method=S256/)
  const signedIn = await emulator.signInAtAuthorize(authorize, user)
  expect(signedIn.location).toMatch(/\/\.auth\/login\/aad\/callback\?code=/)
  const callback = await fetch(signedIn.location as string, { redirect: 'manual', headers: { cookie: nonce } })
  expect(callback.status).toBe(302)
  expect(callback.headers.get('location')).toBe(expectedReturn)
  const cookie = setCookies(callback).find((pair) => pair.startsWith(`${SESSION_COOKIE}=`)) as string
  expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`))
  return cookie
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'))
}

describe('emulated Easy Auth front door', () => {
  it('sends an anonymous page to sign in, and answers 401 to an anonymous API call', async () => {
    const page = await fetch(`${frontDoor.url}/resources?x=1`, { redirect: 'manual', headers: { accept: 'text/html' } })
    expect(page.status).toBe(302)
    expect(page.headers.get('location')).toBe(`/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent('/resources?x=1')}`)
    const api = await fetch(`${frontDoor.url}/api/resources`, { redirect: 'manual' })
    expect(api.status).toBe(401)
  })

  it('signs in with code + PKCE and injects the token-store headers for the API audience', async () => {
    const cookie = await signIn(ada, '/home')
    seen = []
    const answer = await fetch(`${frontDoor.url}/home`, { headers: { cookie } })
    expect(await answer.text()).toBe('app saw /home')
    const headers = seen[0] as IncomingHttpHeaders
    const token = headers['x-ms-token-aad-access-token'] as string
    expect(claimsOf(token)).toMatchObject({ aud: `api://${frontDoor.client.clientId}`, scp: 'user_impersonation', preferred_username: ada.username })
    expect(headers['x-ms-client-principal-name']).toBe(ada.username)
    expect(headers['x-ms-client-principal-idp']).toBe('aad')
    expect(headers['x-ms-client-principal-id']).toBe(claimsOf(token).oid)
    const principal = JSON.parse(Buffer.from(headers['x-ms-client-principal'] as string, 'base64').toString('utf8'))
    expect(principal).toMatchObject({ auth_typ: 'aad', name_typ: 'preferred_username', role_typ: 'roles' })
    expect(Date.parse(headers['x-ms-token-aad-expires-on'] as string)).toBeGreaterThan(Date.now())
    expect(headers.cookie).toBeUndefined() // the session cookie is the front door's, not the app's
  })

  it('strips every X-MS-* header a client sends, signed in or not', async () => {
    const forged = { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': 'forged.token.value', 'X-MS-CLIENT-PRINCIPAL-NAME': 'mallory', 'x-ms-anything': '1' }
    seen = []
    await (await fetch(`${frontDoor.url}/public`, { headers: forged })).text()
    const anonymous = seen[0] as IncomingHttpHeaders
    expect(Object.keys(anonymous).filter((name) => name.startsWith('x-ms-'))).toEqual([])
    const cookie = await signIn(ada)
    seen = []
    await (await fetch(`${frontDoor.url}/public`, { headers: { ...forged, cookie } })).text()
    const signedIn = seen[0] as IncomingHttpHeaders
    expect(signedIn['x-ms-token-aad-access-token']).not.toBe('forged.token.value')
    expect(signedIn['x-ms-client-principal-name']).toBe(ada.username)
    expect(signedIn['x-ms-anything']).toBeUndefined()
  })

  it('serves /.auth/me, and /.auth/refresh renews an expired session', async () => {
    const cookie = await signIn(ada)
    const me = (await (await fetch(`${frontDoor.url}/.auth/me`, { headers: { cookie } })).json()) as Array<Record<string, unknown>>
    expect(me[0]).toMatchObject({ provider_name: 'aad', user_id: ada.username })
    expect(frontDoor.expireSessions()).toBeGreaterThan(0)
    seen = []
    await (await fetch(`${frontDoor.url}/x`, { headers: { cookie } })).text()
    expect(Date.parse((seen[0] as IncomingHttpHeaders)['x-ms-token-aad-expires-on'] as string)).toBeLessThan(Date.now())
    const before = frontDoor.refreshCount
    const refresh = await fetch(`${frontDoor.url}/.auth/refresh`, { headers: { cookie } })
    expect(refresh.status).toBe(200)
    expect(frontDoor.refreshCount).toBe(before + 1)
    seen = []
    await (await fetch(`${frontDoor.url}/x`, { headers: { cookie } })).text()
    expect(Date.parse((seen[0] as IncomingHttpHeaders)['x-ms-token-aad-expires-on'] as string)).toBeGreaterThan(Date.now())
    expect((await fetch(`${frontDoor.url}/.auth/refresh`)).status).toBe(401)
  })

  it('refuses an unknown state, never redirects off-site, and logs out', async () => {
    expect((await fetch(`${frontDoor.url}/.auth/login/aad/callback?code=x&state=forged`)).status).toBe(400)
    const cookie = await signIn(ada, '//evil.example/', '/')
    const logout = await fetch(`${frontDoor.url}/.auth/logout`, { headers: { cookie }, redirect: 'manual' })
    expect(logout.headers.get('set-cookie')).toMatch(/Max-Age=0/)
    expect((await fetch(`${frontDoor.url}/.auth/me`, { headers: { cookie } })).status).toBe(401)
  })

  it('never redirects off-site, for any way a browser reads a path as another host (tab, newline, backslash, dot segments)', async () => {
    const attacks = [
      '//evil.example/',
      '/\t/evil.example/',
      '/\n/evil.example/',
      '/\r\n/evil.example',
      '/\\evil.example',
      '/\t\\evil.example',
      '/.//evil.example',
      '/a/..//evil.example',
      'https://evil.example/',
      '\\/evil.example',
    ]
    for (const attack of attacks) {
      const logout = await fetch(`${frontDoor.url}/.auth/logout?post_logout_redirect_uri=${encodeURIComponent(attack)}`, { redirect: 'manual' })
      expect(logout.status, JSON.stringify(attack)).toBe(302)
      // Resolved as a browser resolves Location.
      expect(new URL(logout.headers.get('location') as string, frontDoor.url).origin, JSON.stringify(attack)).toBe(frontDoor.url)
    }
    await signIn(ada, '/\t/evil.example/', '/')
    // A path of the site stays as it is.
    await signIn(ada, '/vms?group=a%2Fb#top', '/vms?group=a%2Fb#top')
  })

  it('login CSRF: a callback of a sign-in started in another browser (no or another nonce cookie) signs nobody in, and its code is not redeemed', async () => {
    const attacker = await startSignIn('/')
    const other = await startSignIn('/')
    const signedIn = await emulator.signInAtAuthorize(attacker.authorize, ada)
    const sessions = frontDoor.sessionCount
    for (const cookie of [undefined, other.nonce]) {
      const callback = await fetch(signedIn.location as string, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } })
      expect(callback.status).toBe(400)
      expect(setCookies(callback).some((pair) => pair.startsWith(`${SESSION_COOKIE}=`))).toBe(false)
      expect(frontDoor.sessionCount).toBe(sessions)
    }
  })

  it("strips X-MS-* headers sent raw in any letter case and several times (signed in: only the front door's values reach the app)", async () => {
    const cookie = await signIn(ada)
    const { hostname, port } = new URL(frontDoor.url)
    const forged = [
      'X-MS-TOKEN-AAD-ACCESS-TOKEN: forged.one.token',
      'x-ms-token-aad-access-token: forged.two.token',
      'X-Ms-Client-Principal-Name: mallory',
      'x-MS-CLIENT-principal-name: mallory2',
      'X-MS-CLIENT-PRINCIPAL-ID: 00000000-0000-0000-0000-000000000000',
      'X-MS-CLIENT-PRINCIPAL: eyJjbGFpbXMiOltdfQ==',
      'X-MS-Anything-Else: 1',
    ]
    seen = []
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () =>
        socket.write(`GET /public HTTP/1.1\r\nHost: ${hostname}:${port}\r\nCookie: ${cookie}\r\n${forged.join('\r\n')}\r\nConnection: close\r\n\r\n`),
      )
      socket.on('data', () => {})
      socket.on('close', () => resolve())
      socket.on('error', reject)
    })
    const headers = seen[0] as IncomingHttpHeaders
    expect(headers['x-ms-token-aad-access-token']).toMatch(/^eyJ/)
    expect(headers['x-ms-token-aad-access-token']).not.toMatch(/forged/)
    expect(headers['x-ms-client-principal-name']).toBe(ada.username)
    expect(headers['x-ms-client-principal-id']).not.toBe('00000000-0000-0000-0000-000000000000')
    expect(headers['x-ms-anything-else']).toBeUndefined()
  })
})
