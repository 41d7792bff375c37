// The sample end to end over plain HTTP (the browser test plays the same with Chromium): sign-in through the
// front door, the official Resource Manager clients on behalf of each user, forged headers, the refresh path.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EasyAuthSample, type SampleUser, startEasyAuthSample } from './sample-environment'

let sample: EasyAuthSample
beforeAll(async () => {
  sample = await startEasyAuthSample()
})
afterAll(async () => {
  await sample?.close()
})

/** Plays the browser through the front door's sign-in (its nonce cookie goes back with the callback); returns the session cookie. */
async function frontDoorSignIn(on: EasyAuthSample, user: SampleUser): Promise<string> {
  const start = await fetch(`${on.url}/.auth/login/aad`, { redirect: 'manual' })
  const nonce = start.headers.getSetCookie().map((line) => line.split(';')[0] as string)
  const signedIn = await on.emulator.signInAtAuthorize(start.headers.get('location') as string, { username: user.username, password: user.password })
  const callback = await fetch(signedIn.location as string, { redirect: 'manual', headers: { cookie: nonce.join('; ') } })
  return callback.headers.getSetCookie().map((line) => line.split(';')[0] as string)[0] as string
}

const signIn = (user: SampleUser): Promise<string> => frontDoorSignIn(sample, user)

async function resources(cookie: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sample.url}/api/resources`, { headers: { cookie, accept: 'application/json' } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const names = (list: unknown): string[] => (list as Array<{ name: string }>).map((item) => item.name)

describe('Easy Auth sample', () => {
  it('each user sees only their own resource groups and virtual machines, through the official clients', async () => {
    for (const user of [sample.users.ada, sample.users.bob]) {
      const { status, body } = await resources(await signIn(user))
      expect(status).toBe(200)
      expect(body.user).toMatchObject({ id: user.oid, name: user.username })
      expect(names(body.resourceGroups)).toEqual(user.resourceGroups)
      expect(names(body.virtualMachines)).toEqual(user.virtualMachines)
    }
    expect(new Set(sample.arm.requests.filter((request) => request.status === 200).map((request) => request.oid))).toEqual(
      new Set([sample.users.ada.oid, sample.users.bob.oid]),
    )
  })

  it('works with the Entra emulator on http (what `pnpm sample` starts for a person with a browser)', async () => {
    const plain = await startEasyAuthSample({ entraProtocol: 'http' })
    try {
      expect(plain.emulator.url).toMatch(/^http:/)
      const cookie = await frontDoorSignIn(plain, plain.users.bob)
      const body = (await (await fetch(`${plain.url}/api/resources`, { headers: { cookie } })).json()) as Record<string, unknown>
      expect(names(body.resourceGroups)).toEqual(plain.users.bob.resourceGroups)
    } finally {
      await plain.close()
    }
  })

  it('a forged X-MS-TOKEN-AAD-ACCESS-TOKEN never reaches the app', async () => {
    const forged = 'eyJhbGciOiJub25lIn0.eyJvaWQiOiJtYWxsb3J5In0.forged'
    const fingerprint = createHash('sha256').update(forged).digest('hex').slice(0, 16)
    const anonymous = await (
      await fetch(`${sample.url}/api/whoami`, { headers: { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': forged, 'X-MS-CLIENT-PRINCIPAL-NAME': 'mallory' } })
    ).json()
    expect(anonymous).toEqual({ user: null, accessTokenFingerprint: null })
    const cookie = await signIn(sample.users.bob)
    const signedIn = (await (await fetch(`${sample.url}/api/whoami`, { headers: { cookie, 'x-ms-token-aad-access-token': forged } })).json()) as Record<
      string,
      unknown
    >
    expect(signedIn.user).toBe(sample.users.bob.username)
    expect(signedIn.accessTokenFingerprint).not.toBe(fingerprint)
    // Straight at the front door's API without a session: 401, the app is not reached.
    expect((await fetch(`${sample.url}/api/resources`, { headers: { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': forged } })).status).toBe(401)
  })

  it('an expired session answers action "refresh"; after /.auth/refresh the list comes back', async () => {
    const cookie = await signIn(sample.users.ada)
    sample.frontDoor.expireSessions()
    const expired = await resources(cookie)
    expect(expired.status).toBe(401)
    expect(expired.body).toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED', action: 'refresh', path: '/.auth/refresh' })
    expect((await fetch(`${sample.url}/.auth/refresh`, { headers: { cookie } })).status).toBe(200)
    const again = await resources(cookie)
    expect(again.status).toBe(200)
    expect(names(again.body.resourceGroups)).toEqual(sample.users.ada.resourceGroups)
  })
})
