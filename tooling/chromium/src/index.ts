// The system Chromium (Debian's `chromium`, /usr/bin/chromium) driven headless by playwright-core, for
// azcred's real-browser tests and the demo. Nothing is downloaded: playwright-core only drives the
// binary the project's setup script installs (`bash tooling/ci/setup-chromium.sh`).
import { accessSync, constants, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'

export type { Browser, BrowserContext, Page } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** How to install the browser when it is missing. */
export const CHROMIUM_INSTALL_HINT = 'Chromium is not installed: run `bash tooling/ci/setup-chromium.sh` (apt-get install chromium).'

/** The Chromium binary to use: `AZCRED_CHROMIUM` when set, else {@link CHROMIUM_PATH}. */
export function chromiumPath(): string {
  return process.env.AZCRED_CHROMIUM || CHROMIUM_PATH
}

/** True when the Chromium binary exists and is executable (tests use it to skip with {@link CHROMIUM_INSTALL_HINT}). */
export function chromiumAvailable(executablePath: string = chromiumPath()): boolean {
  try {
    accessSync(executablePath, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Options of {@link launchChromium}. */
export interface LaunchChromiumOptions {
  /** Folder for screenshots (created; keep it out of git). Default `<cwd>/test-output/screenshots`. */
  outputDir?: string
  /** The browser binary. Default {@link chromiumPath}. */
  executablePath?: string
  /** Longest wait for the browser to start, ms. Default 30 000. */
  launchTimeoutMs?: number
  /** Default time limit of every page action and navigation, ms. Default 15 000. */
  actionTimeoutMs?: number
}

/** Options of {@link HeadlessChromium.newPage}. */
export interface NewPageOptions {
  /**
   * Accept any TLS certificate in this page's context: ONLY for a loopback server with its own
   * self-signed certificate, such as the Entra emulator. Default false.
   */
  ignoreHTTPSErrors?: boolean
}

/** A running headless Chromium. Call {@link HeadlessChromium.close} in `finally`/`afterAll`. */
export interface HeadlessChromium {
  readonly browser: Browser
  /** The screenshot folder (absolute). */
  readonly outputDir: string
  /** A page in a fresh context (no cookies shared with other pages). */
  newPage(options?: NewPageOptions): Promise<Page>
  /** Saves a full-page PNG of `page` as `<outputDir>/<name>.png` (name cleaned to [\w.-]) and returns its path. */
  screenshot(page: Page, name: string): Promise<string>
  /** Closes every context and the browser (its process ends); safe to call twice. */
  close(): Promise<void>
}

/**
 * Launches the system Chromium headless (`--no-sandbox` when running as root, as in a CI container).
 * @throws Error with {@link CHROMIUM_INSTALL_HINT} when the binary is missing.
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<HeadlessChromium> {
  const executablePath = options.executablePath ?? chromiumPath()
  if (!chromiumAvailable(executablePath)) throw new Error(`${CHROMIUM_INSTALL_HINT} (looked for ${executablePath})`)
  const outputDir = resolve(options.outputDir ?? join(process.cwd(), 'test-output', 'screenshots'))
  mkdirSync(outputDir, { recursive: true })
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: options.launchTimeoutMs ?? 30_000,
    args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  })
  const contexts = new Set<BrowserContext>()
  let closed: Promise<void> | undefined
  return {
    browser,
    outputDir,
    async newPage(pageOptions: NewPageOptions = {}) {
      const context = await browser.newContext({ ignoreHTTPSErrors: pageOptions.ignoreHTTPSErrors === true })
      context.setDefaultTimeout(options.actionTimeoutMs ?? 15_000)
      contexts.add(context)
      return context.newPage()
    },
    async screenshot(page, name) {
      const path = join(outputDir, `${name.replace(/[^\w.-]/g, '_').slice(0, 100)}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
    close() {
      closed ??= (async () => {
        for (const context of contexts) await context.close().catch(() => {})
        await browser.close()
      })()
      return closed
    },
  }
}
