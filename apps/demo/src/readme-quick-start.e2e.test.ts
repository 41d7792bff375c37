// The root README's quick start, run as written: the snippet unmodified, bundled as a user's tool
// would, in a child process given only the variables the README names, plus AZURE_AUTHORITY_HOST
// (which wins over `cloud`, as in @azure/identity) and the emulator's CA. The child carries the
// loopback-only network guard, so a regression can never reach a real Entra host.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { build } from 'esbuild'
import { afterAll, beforeAll, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'azcred-quick-start-'))
let emulator: EntraEmulator

beforeAll(async () => {
  emulator = await startEntraEmulator()
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const snippet = /## Quick start[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  if (snippet === undefined) throw new Error('README.md has no ts block under "## Quick start"')
  const bundle = await build({
    stdin: { contents: snippet, resolveDir: root, loader: 'ts', sourcefile: 'quick-start.ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'azcred-workspace', // @azcred/<name> → the built packages/<name>, as the published package
        setup(builder) {
          builder.onResolve({ filter: /^@azcred\/[^/]+$/ }, (args) => ({
            path: join(root, 'packages', args.path.slice('@azcred/'.length), 'dist', 'index.js'),
          }))
        },
      },
    ],
  })
  writeFileSync(join(work, 'quick-start.mjs'), bundle.outputFiles[0]?.text ?? '')
  writeFileSync(join(work, 'ca.pem'), emulator.certificate)
  const guard = join(root, 'tooling', 'vitest', 'src', 'network-guard.js')
  writeFileSync(join(work, 'guard.mjs'), `import { installNetworkGuard } from ${JSON.stringify(guard)}\ninstallNetworkGuard()\n`)
})
afterAll(async () => {
  await emulator?.close()
  rmSync(work, { recursive: true, force: true })
})

function runQuickStart(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', join(work, 'guard.mjs'), join(work, 'quick-start.mjs')],
      { env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: join(work, 'ca.pem'), ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    )
  })
}

it('gets a token with the three variables set (and the authority host pointed at the emulator)', async () => {
  const app = emulator.registerApp()
  const { code, stdout, stderr } = await runQuickStart({
    AZURE_TENANT_ID: app.tenantId,
    AZURE_CLIENT_ID: app.clientId,
    AZURE_CLIENT_SECRET: app.clientSecret,
    AZURE_AUTHORITY_HOST: emulator.authorityHost,
  })
  expect(stderr).toBe('')
  expect(code).toBe(0)
  expect(stdout).toMatch(/^got a token of \d+ characters, valid until \d{4}-\d\d-\d\dT/)
  const requests = emulator.requestsTo(`/${app.tenantId}/oauth2/v2.0/token`)
  expect(requests.map((request) => request.form.scope)).toEqual(['https://management.azure.com/.default'])
  expect(stdout).not.toContain(app.clientSecret)
})

it('fails at once with AZCRED_CONFIG_INVALID when a variable is unset, before any request', async () => {
  const before = emulator.requests.length
  const { code, stderr } = await runQuickStart({ AZURE_AUTHORITY_HOST: emulator.authorityHost })
  expect(code).not.toBe(0)
  expect(stderr).toContain('AZCRED_CONFIG_INVALID')
  expect(stderr).toContain('tenantId')
  expect(emulator.requests.length).toBe(before)
})
