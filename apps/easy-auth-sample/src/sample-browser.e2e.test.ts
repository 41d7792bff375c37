// The sample in a real browser (headless Debian Chromium through @azcred/tooling-chromium): sign in as A through the
// front door and see A's resource groups, as B and see B's, forged X-MS-* headers stripped, and an expired session
// taking the /.auth/refresh path. Screenshots: apps/easy-auth-sample/test-output/screenshots/ (not committed).
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { CHROMIUM_INSTALL_HINT, chromiumAvailable, type HeadlessChromium, launchChromium, type Page } from '@azcred/tooling-chromium'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EasyAuthSample, type SampleUser, startEasyAuthSample } from './sample-environment'

const available = chromiumAvailable()
if (!available) console.warn(`skipping the browser test: ${CHROMIUM_INSTALL_HINT}`)
const outputDir = fileURLToPath(new URL('../test-output/screenshots/', import.meta.url))

let sample: EasyAuthSample
let chromium: HeadlessChromium
const pages: Partial<Record<'ada' | 'bob', Page>> = {}
const screenshots: string[] = []

beforeAll(async () => {
  if (!available) return
  sample = await startEasyAuthSample()
  chromium = await launchChromium({ outputDir })
}, 60_000)

afterAll(async () => {
  await chromium?.close()
  await sample?.close()
  if (screenshots.length > 0) console.log(`screenshots:\n  ${screenshots.join('\n  ')}`)
})

/** Opens the app, is sent to sign in, signs in on the emulator's page, and lands back on the list. */
async function signInInBrowser(user: SampleUser): Promise<Page> {
  // Fresh context: no cookies of another user. The emulator's page is https with a loopback test certificate.
  const page = await chromium.newPage({ ignoreHTTPSErrors: true })
  await page.goto(sample.url)
  await page.waitForURL(/\/oauth2\/v2\.0\/authorize/)
  await page.fill('input[name="login"]', user.username)
  await page.fill('input[name="passwd"]', user.password)
  await page.click('button[value="signin"], button[type="submit"]:has-text("Sign in")')
  await page.waitForURL(`${sample.url}/`)
  await page.waitForSelector('body[data-state="loaded"]')
  return page
}

const cellTexts = (page: Page, selector: string): Promise<string[]> => page.$$eval(selector, (cells) => cells.map((cell) => cell.textContent ?? ''))

describe.skipIf(!available)('Easy Auth sample in headless Chromium', () => {
  it("signs in as A and shows A's resource groups and virtual machines", async () => {
    const page = await signInInBrowser(sample.users.ada)
    pages.ada = page
    expect(await page.textContent('#user')).toBe(sample.users.ada.username)
    expect(await cellTexts(page, '#resource-groups tr td:first-child')).toEqual(sample.users.ada.resourceGroups)
    expect(await cellTexts(page, '#virtual-machines tr td:first-child')).toEqual(sample.users.ada.virtualMachines)
    screenshots.push(await chromium.screenshot(page, 'easy-auth-sample-ada'))
  })

  it("signs in as B and shows B's, not A's", async () => {
    const page = await signInInBrowser(sample.users.bob)
    pages.bob = page
    expect(await page.textContent('#user')).toBe(sample.users.bob.username)
    const groups = await cellTexts(page, '#resource-groups tr td:first-child')
    expect(groups).toEqual(sample.users.bob.resourceGroups)
    expect(groups.some((name) => sample.users.ada.resourceGroups.includes(name))).toBe(false)
    expect(await cellTexts(page, '#virtual-machines tr td:first-child')).toEqual(sample.users.bob.virtualMachines)
    screenshots.push(await chromium.screenshot(page, 'easy-auth-sample-bob'))
  })

  it('strips a forged X-MS-TOKEN-AAD-ACCESS-TOKEN sent from the browser, signed in or not', async () => {
    const forged = 'eyJhbGciOiJub25lIn0.eyJvaWQiOiJtYWxsb3J5In0.forged'
    const fingerprint = createHash('sha256').update(forged).digest('hex').slice(0, 16)
    const call = (page: Page) =>
      page.evaluate(async (token) => {
        const response = await fetch('/api/whoami', { headers: { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': token, 'X-MS-CLIENT-PRINCIPAL-NAME': 'mallory' } })
        return (await response.json()) as { user: string | null; accessTokenFingerprint: string | null }
      }, forged)
    const bob = await call(pages.bob as Page)
    expect(bob.user).toBe(sample.users.bob.username)
    expect(bob.accessTokenFingerprint).not.toBe(fingerprint)
    const anonymousPage = await chromium.newPage()
    await anonymousPage.goto(`${sample.url}/api/whoami`)
    expect(await call(anonymousPage)).toEqual({ user: null, accessTokenFingerprint: null })
    // The forged token sent straight to the front door's protected API does not sign anyone in.
    const direct = await anonymousPage.evaluate(
      async (token) => (await fetch('/api/resources', { headers: { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': token, accept: 'application/json' } })).status,
      forged,
    )
    expect(direct).toBe(401)
  })

  it('an expired session takes the refresh path: the page calls /.auth/refresh and shows the list again', async () => {
    const page = pages.ada as Page
    const refreshes = sample.frontDoor.refreshCount
    expect(sample.frontDoor.expireSessions()).toBeGreaterThan(0)
    const refreshCall = page.waitForRequest((request) => request.url() === `${sample.url}/.auth/refresh`)
    await page.reload()
    await refreshCall
    await page.waitForSelector('body[data-state="loaded-after-refresh"]')
    expect(sample.frontDoor.refreshCount).toBe(refreshes + 1)
    expect(await page.isVisible('#refresh-note')).toBe(true)
    expect(await cellTexts(page, '#resource-groups tr td:first-child')).toEqual(sample.users.ada.resourceGroups)
    screenshots.push(await chromium.screenshot(page, 'easy-auth-sample-ada-after-refresh'))
  })
})
