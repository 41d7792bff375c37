import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AccessToken } from '@azcred/core'
import { DeviceCodeCredential } from '@azcred/device-code'
import { persistentTokenCache } from '@azcred/token-cache-file'
import type { DemoFlow } from '../demo-flow'

const ARM = 'https://management.azure.com/.default'
const STORAGE = 'https://storage.azure.com/.default'
const VAULT = 'https://vault.azure.net/.default'
const CACHE_NAME = 'azcred-demo-device-code'

/**
 * The second process: a bare `node` that builds a DeviceCodeCredential on the same encrypted file cache,
 * finds the account stored there, never prompts (automatic authentication off) and prints one JSON line.
 * The token goes back to the demo over the pipe only to be shown redacted, like every other row.
 */
const SECOND_PROCESS = `
const { DeviceCodeCredential } = await import('@azcred/device-code')
const { persistentTokenCache } = await import('@azcred/token-cache-file')
const options = { enabled: true, name: process.env.DEMO_CACHE_NAME, directory: process.env.DEMO_CACHE_DIRECTORY, keySource: 'file' }
const authenticationRecord = await persistentTokenCache(options).loadAuthenticationRecord({ clientId: process.env.DEMO_CLIENT_ID })
const credential = new DeviceCodeCredential({
  tenantId: process.env.DEMO_TENANT_ID,
  clientId: process.env.DEMO_CLIENT_ID,
  authorityHost: process.env.DEMO_AUTHORITY_HOST,
  authenticationRecord,
  disableAutomaticAuthentication: true,
  tokenCachePersistenceOptions: options,
  userPromptCallback: () => { throw new Error('the second process must not prompt') },
})
const { token, expiresOnTimestamp } = await credential.getToken(process.env.DEMO_SCOPE)
process.stdout.write(JSON.stringify({ token, expiresOnTimestamp }) + '\\n')
`

/** Runs the second process from apps/demo (where @azcred/* resolve), trusting the emulator's CA. */
function secondProcess(env: Record<string, string>): Promise<AccessToken> {
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SECOND_PROCESS],
      { cwd, env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`the second process failed: ${stderr.split('\n').slice(-5).join(' ')}`))
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as AccessToken)
        } catch {
          reject(new Error('the second process printed no token'))
        }
      },
    )
  })
}

/**
 * Device code: a sign-in whose code the emulator approves through its control API (Entra's message is
 * printed, as a user would see it), asking consent for Storage and Key Vault up front; then tokens for
 * Storage and Key Vault from the same sign-in (one refresh-token request each, no prompt); then a SECOND
 * PROCESS that finds the account and its refresh token in the encrypted file cache (@azcred/token-cache-file)
 * and gets its token with 0 requests to the emulator.
 */
export function deviceCodeFlows(): DemoFlow[] {
  let credential: DeviceCodeCredential | undefined
  let prompts = 0
  let directory: string | undefined
  let app: { tenantId: string; clientId: string } | undefined
  const audience = (scope: string, label: string): DemoFlow => ({
    name: `device code (${label}, same sign-in)`,
    scope,
    async run() {
      if (credential === undefined) throw new Error('the sign-in row did not run')
      const token = await credential.getToken(scope)
      if (prompts !== 1) throw new Error(`expected one prompt, saw ${prompts}`)
      return token
    },
  })
  return [
    {
      name: 'device code (sign-in, emulator approves)',
      scope: ARM,
      async run(emulator) {
        const registered = emulator.registerApp({ displayName: 'demo-device-code', publicClient: true })
        app = registered
        const user = emulator.addUser({ username: 'demo.device@contoso.onmicrosoft.com', name: 'Demo Device', consentedResources: [] })
        directory = await mkdtemp(join(tmpdir(), 'azcred-demo-cache-'))
        const persistence = { enabled: true, name: CACHE_NAME, directory, keySource: 'file' as const }
        credential = new DeviceCodeCredential({
          tenantId: registered.tenantId,
          clientId: registered.clientId,
          authorityHost: emulator.authorityHost,
          fetch: emulator.fetch,
          extraScopesToConsent: ['https://storage.azure.com/user_impersonation', 'https://vault.azure.net/user_impersonation'],
          tokenCachePersistenceOptions: persistence,
          userPromptCallback: (info) => {
            prompts += 1
            console.log(`  prompt: ${info.message}\n  (the emulator plays ${user.username} and approves ${info.userCode})\n`)
            emulator.deviceCodes.approve(info.userCode, user.username)
          },
        })
        const record = await credential.authenticate(ARM)
        // The account, next to its tokens in the encrypted file: the second process finds it there.
        await persistentTokenCache(persistence).saveAuthenticationRecord(record)
        return credential.getToken(ARM)
      },
    },
    audience(STORAGE, 'Storage'),
    audience(VAULT, 'Key Vault'),
    {
      name: 'device code (second process, encrypted file cache)',
      scope: ARM,
      async run(emulator) {
        if (directory === undefined || app === undefined) throw new Error('the sign-in row did not run')
        const caFile = join(directory, 'emulator-ca.pem')
        await writeFile(caFile, emulator.certificate)
        const before = emulator.requests.length
        try {
          const token = await secondProcess({
            NODE_EXTRA_CA_CERTS: caFile,
            DEMO_CACHE_NAME: CACHE_NAME,
            DEMO_CACHE_DIRECTORY: directory,
            DEMO_TENANT_ID: app.tenantId,
            DEMO_CLIENT_ID: app.clientId,
            DEMO_AUTHORITY_HOST: emulator.authorityHost,
            DEMO_SCOPE: ARM,
          })
          return { ...token, requests: emulator.requests.length - before }
        } finally {
          await rm(directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
        }
      },
    },
  ]
}
