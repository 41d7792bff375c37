// Migration: an app written against @azure/identity (src/__fixtures__/migration/identity-app.ts) and the
// same app with only its import lines changed to azcred (azcred-app.ts). Both compile with tsc; the
// azcred one runs as its own Node process and gets a token from the emulator.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, expect, it } from 'vitest'

const fixtures = fileURLToPath(new URL('./__fixtures__/migration/', import.meta.url))
const packageRoot = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const caFile = fileURLToPath(new URL('../../entra-emulator/certs/loopback-ca.crt', import.meta.url))
// Inside this package (dist/ is ignored by git), so the compiled app resolves @azcred/* from its node_modules.
mkdirSync(join(packageRoot, 'dist'), { recursive: true })
const outDir = mkdtempSync(join(packageRoot, 'dist', 'migration-'))
let emulator: EntraEmulator

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

const tscFlags = ['--module', 'esnext', '--moduleResolution', 'bundler', '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node']

beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator?.close()
  rmSync(outDir, { recursive: true, force: true })
})

it('only the import lines differ between the two apps', () => {
  const code = (file: string) =>
    readFileSync(join(fixtures, file), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('import '))
  const identity = readFileSync(join(fixtures, 'identity-app.ts'), 'utf8')
  expect(identity).toContain("from '@azure/identity'")
  expect(code('azcred-app.ts')).toEqual(code('identity-app.ts'))
})

it('the @azure/identity app and its azcred migration both compile with tsc', async () => {
  const original = await run(process.execPath, [tsc, ...tscFlags, '--noEmit', join(fixtures, 'identity-app.ts')])
  expect(original.output).toBe('')
  expect(original.code).toBe(0)
  const migrated = await run(process.execPath, [tsc, ...tscFlags, '--outDir', outDir, join(fixtures, 'azcred-app.ts')])
  expect(migrated.output).toBe('')
  expect(migrated.code).toBe(0)
})

it('the migrated app runs and gets a token (then serves it from its cache)', async () => {
  const app = emulator.registerApp()
  const result = await run(process.execPath, [join(outDir, 'azcred-app.js')], {
    PATH: process.env.PATH,
    NODE_EXTRA_CA_CERTS: caFile,
    AZURE_TENANT_ID: app.tenantId,
    AZURE_CLIENT_ID: app.clientId,
    AZURE_CLIENT_SECRET: app.clientSecret,
    AZURE_AUTHORITY_HOST: emulator.authorityHost,
  })
  expect(result.output).not.toContain(app.clientSecret)
  expect(result.code).toBe(0)
  const printed = JSON.parse(result.output.trim()) as { length: number; minutesLeft: number; cached: boolean }
  expect(printed.length).toBeGreaterThan(100)
  expect(printed.minutesLeft).toBeGreaterThan(50)
  expect(printed.cached).toBe(true)
  expect(emulator.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token') && request.form.client_id === app.clientId)).toHaveLength(1)
})
