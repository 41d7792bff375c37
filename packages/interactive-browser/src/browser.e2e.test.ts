// The browser sign-in in a real browser: Debian's Chromium, headless, driven by playwright-core
// (@azcred/tooling-chromium). Chromium opens the authorize URL on the Entra emulator, the test types the
// username and password into the emulator's sign-in form, accepts the consent page, Chromium follows the
// redirect to the credential's loopback listener, and the credential returns a token. Also: a forged
// redirect (the state of another sign-in) opened in the browser is refused with nothing redeemed, and
// "Cancel" on the sign-in page ends in AZCRED_AUTHENTICATION_CANCELLED. Screenshots of every page go to
// test-output/screenshots (not committed). Chromium: `bash tooling/ci/setup-chromium.sh`.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { CHROMIUM_INSTALL_HINT, chromiumAvailable, type HeadlessChromium, launchChromium, type Page } from '@azcred/tooling-chromium'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isListening } from './__fixtures__/is-listening'
import { InteractiveBrowserCredential } from './index'

const STORAGE = 'https://storage.azure.com/.default'
const ORDERS = 'api://orders/Orders.Read'
// Without Chromium the suite fails with the install hint, unless AZCRED_SKIP_BROWSER=1 says to skip it.
const skip = !chromiumAvailable() && process.env.AZCRED_SKIP_BROWSER === '1'

let emulator: EntraEmulator
let chromium: HeadlessChromium
const durations: Record<string, number> = {}
const suiteStarted = Date.now()

beforeAll(async () => {
  if (skip) return
  if (!chromiumAvailable()) throw new Error(CHROMIUM_INSTALL_HINT)
  emulator = await startEntraEmulator()
  chromium = await launchChromium({ outputDir: join(process.cwd(), 'test-output', 'screenshots') })
})
afterAll(async () => {
  await chromium?.close()
  await emulator?.close()
  if (!skip) {
    durations.suiteMs = Date.now() - suiteStarted
    writeFileSync(join(chromium?.outputDir ?? '.', '..', 'browser-durations.json'), `${JSON.stringify(durations, null, 2)}\n`)
    console.log(`browser e2e durations (ms): ${JSON.stringify(durations)}`)
  }
})

const portOf = (authorizeUrl: string) => Number(new URL(new URL(authorizeUrl).searchParams.get('redirect_uri') ?? '').port)
const tokenRequests = (clientId: string) => emulator.requestsTo('/oauth2/v2.0/token').filter((request) => request.form.client_id === clientId)

/** A credential whose openBrowser navigates a real Chromium page to the authorize URL. */
function browserCredential(page: Page, options: { loginHint?: string } = {}, navigate = true) {
  const app = emulator.registerApp({ publicClient: true })
  const opened: string[] = []
  const credential = new InteractiveBrowserCredential({
    tenantId: app.tenantId,
    clientId: app.clientId,
    authorityHost: emulator.authorityHost,
    fetch: emulator.fetch,
    signInTimeoutMs: 60_000,
    browserCustomizationOptions: { successMessage: 'azcred: signed in, you can close this tab.' },
    openBrowser: async (url) => {
      opened.push(url)
      if (navigate) await page.goto(url)
    },
    ...options,
  })
  return { app, opened, credential }
}

describe.skipIf(skip)('InteractiveBrowserCredential in headless Chromium (emulator)', () => {
  it('sign-in form, consent, redirect to the loopback listener: the credential returns a token', async () => {
    const started = Date.now()
    // Storage consented earlier, api://orders not yet: the consent page shows for it.
    const user = emulator.addUser({
      username: 'chromium.user@contoso.onmicrosoft.com',
      name: 'Chromium User',
      consentedResources: ['https://storage.azure.com'],
    })
    const page = await chromium.newPage({ ignoreHTTPSErrors: true }) // the emulator's self-signed loopback certificate only
    const { app, opened, credential } = browserCredential(page, { loginHint: user.username })
    const token = credential.getToken(ORDERS)

    await page.waitForSelector('input[name="passwd"]')
    expect(await page.inputValue('input[name="login"]')).toBe(user.username) // login_hint
    await page.fill('input[name="passwd"]', user.password)
    await chromium.screenshot(page, 'browser-1-sign-in')
    await page.click('button:has-text("Sign in")')
    await page.waitForSelector('button[value="accept"]')
    expect(await page.textContent('body')).toContain('api://orders/Orders.Read')
    await chromium.screenshot(page, 'browser-2-consent')
    await page.click('button[value="accept"]')
    await page.waitForURL(/^http:\/\/localhost:\d+\/\?/)
    expect(await page.textContent('#message')).toBe('azcred: signed in, you can close this tab.')
    await chromium.screenshot(page, 'browser-3-success')

    const accessToken = await token
    expect(decodeJwt(accessToken.token)).toMatchObject({ aud: 'api://orders', scp: 'Orders.Read', oid: user.oid, azp: app.clientId })
    expect(tokenRequests(app.clientId).map((request) => request.form.grant_type)).toEqual(['authorization_code'])
    expect(await isListening(portOf(opened[0] ?? ''))).toBe(false)
    // A second audience: the refresh token, no second browser trip.
    await credential.getToken(STORAGE)
    expect(opened).toHaveLength(1)
    expect(tokenRequests(app.clientId).map((request) => request.form.grant_type)).toEqual(['authorization_code', 'refresh_token'])
    durations.signInMs = Date.now() - started
  })

  it('a forged redirect (the state of another sign-in) opened in the browser is refused, nothing redeemed; the real sign-in then completes', async () => {
    const started = Date.now()
    const user = emulator.addUser({ username: 'chromium.forged@contoso.onmicrosoft.com' })
    // Another sign-in (its authorize URL never reaches a browser): its code and state are what an attacker holds.
    const stopOther = new AbortController()
    const otherOpened: string[] = []
    const other = new InteractiveBrowserCredential({
      tenantId: emulator.tenantId,
      clientId: emulator.registerApp({ publicClient: true }).clientId,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      openBrowser: (url) => {
        otherOpened.push(url)
      },
    })
    const otherSignIn = other.getToken(STORAGE, { abortSignal: stopOther.signal }).catch((error: unknown) => error)
    await expect.poll(() => otherOpened.length).toBe(1)
    const stolen = new URL((await emulator.signInAtAuthorize(otherOpened[0] ?? '', { username: user.username })).location ?? '')

    const page = await chromium.newPage({ ignoreHTTPSErrors: true })
    // This test drives the page itself: openBrowser only hands the URL over.
    const victim = browserCredential(page, {}, false)
    const victimToken = victim.credential.getToken(STORAGE)
    victimToken.catch(() => {}) // observed through `token` below
    const token = (async () => {
      await expect.poll(() => victim.opened.length).toBe(1)
      const authorize = victim.opened[0] ?? ''
      const forged = new URL(new URL(authorize).searchParams.get('redirect_uri') ?? '')
      forged.searchParams.set('code', stolen.searchParams.get('code') ?? '')
      forged.searchParams.set('state', stolen.searchParams.get('state') ?? '')
      const response = await page.goto(forged.toString())
      expect(response?.status()).toBe(400)
      expect(await page.textContent('#message')).toContain('does not belong to the sign-in in progress')
      await chromium.screenshot(page, 'browser-4-forged-redirect-refused')
      expect(tokenRequests(victim.app.clientId)).toHaveLength(0) // nothing redeemed
      // The user goes on with the real sign-in.
      await page.goto(authorize)
      await page.fill('input[name="login"]', user.username)
      await page.fill('input[name="passwd"]', user.password)
      await page.click('button:has-text("Sign in")')
      await page.waitForURL(/^http:\/\/localhost:\d+\/\?/)
      return victimToken
    })()
    expect(decodeJwt((await token).token)).toMatchObject({ oid: user.oid })
    const redeemed = tokenRequests(victim.app.clientId)
    expect(redeemed).toHaveLength(1)
    expect(redeemed[0]?.form.code).not.toBe(stolen.searchParams.get('code'))
    stopOther.abort()
    expect(await otherSignIn).toMatchObject({ code: 'AZCRED_ABORTED' })
    durations.forgedRedirectMs = Date.now() - started
  })

  it('"Cancel" on the emulator sign-in page → AZCRED_AUTHENTICATION_CANCELLED, an error page, listener closed', async () => {
    const started = Date.now()
    const page = await chromium.newPage({ ignoreHTTPSErrors: true })
    const { app, opened, credential } = browserCredential(page)
    const outcome = credential.getToken(STORAGE).catch((error: unknown) => error)
    await page.waitForSelector('button[value="cancel"]')
    await page.click('button[value="cancel"]')
    await page.waitForURL(/^http:\/\/localhost:\d+\/\?/)
    expect(await page.textContent('#message')).toContain('access_denied')
    await chromium.screenshot(page, 'browser-5-cancelled')
    expect(await outcome).toMatchObject({ code: 'AZCRED_AUTHENTICATION_CANCELLED' })
    expect(tokenRequests(app.clientId)).toHaveLength(0)
    expect(await isListening(portOf(opened[0] ?? ''))).toBe(false)
    durations.cancelMs = Date.now() - started
  })
})
