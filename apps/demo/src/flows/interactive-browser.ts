import { InteractiveBrowserCredential } from '@azcred/interactive-browser'
import { CHROMIUM_INSTALL_HINT, chromiumAvailable, type HeadlessChromium, launchChromium } from '@azcred/tooling-chromium'
import type { DemoFlow } from '../demo-flow'

const scope = 'https://graph.microsoft.com/User.Read'
const secondScope = 'https://storage.azure.com/.default'

/**
 * Browser sign-in: Debian's Chromium, headless, opens the authorize URL on the emulator; the demo types
 * the user's name and password into the emulator's sign-in page, the browser follows the redirect to the
 * credential's loopback listener (PKCE S256, a checked state) and the credential redeems the code. The
 * second row asks for another audience: served by the refresh token, no browser. Without Chromium the
 * rows are skipped with how to install it.
 */
export function interactiveBrowserFlows(): DemoFlow[] {
  if (!chromiumAvailable()) {
    console.log(`interactive browser rows skipped: ${CHROMIUM_INSTALL_HINT}\n`)
    return []
  }
  let credential: InteractiveBrowserCredential | undefined
  let browserTrips = 0
  return [
    {
      name: 'interactive browser (headless Chromium sign-in)',
      scope,
      async run(emulator) {
        const app = emulator.registerApp({ displayName: 'demo-browser', publicClient: true })
        const user = emulator.addUser({ username: 'demo.browser@contoso.onmicrosoft.com', name: 'Demo Browser' })
        let chromium: HeadlessChromium | undefined
        try {
          chromium = await launchChromium()
          const page = await chromium.newPage({ ignoreHTTPSErrors: true }) // the emulator's own loopback certificate
          credential = new InteractiveBrowserCredential({
            tenantId: app.tenantId,
            clientId: app.clientId,
            authorityHost: emulator.authorityHost,
            fetch: emulator.fetch,
            loginHint: user.username,
            signInTimeoutMs: 60_000,
            openBrowser: async (url) => {
              browserTrips += 1
              await page.goto(url)
            },
          })
          const token = credential.getToken(scope)
          await page.fill('input[name="passwd"]', user.password)
          await page.click('button:has-text("Sign in")')
          await page.waitForURL(/^http:\/\/localhost:\d+\//)
          return await token
        } finally {
          await chromium?.close()
        }
      },
    },
    {
      name: 'interactive browser (new audience, no browser)',
      scope: secondScope,
      async run() {
        if (credential === undefined) throw new Error('the sign-in row did not run')
        const token = await credential.getToken(secondScope)
        if (browserTrips !== 1) throw new Error(`expected one browser trip, saw ${browserTrips}`)
        return token
      },
    },
  ]
}
