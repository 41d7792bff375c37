// The README example, exactly as written, type-checked and then run as separate processes against the
// emulated Cognito Identity and Entra ID: the identity id it stores must make every later process
// present the same subject (issue 11, item 16).
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { readJwtClaims } from '@azcred/core'
import { type CognitoIdentityEmulator, type EntraEmulator, startCognitoIdentity, startEntraEmulator } from '@azcred/entra-emulator'
import ts from 'typescript'
import { afterAll, beforeAll, expect, it } from 'vitest'

const POOL = 'us-east-1:0a0a0a0a-1111-2222-3333-444444444444'
const require = createRequire(import.meta.url)
const packageDist = (name: string) => join(dirname(require.resolve(`${name}/package.json`)), 'dist')
const dists: Record<string, string> = {
  '@azcred/client-assertion': packageDist('@azcred/client-assertion'),
  '@azcred/federation-aws-cognito': fileURLToPath(new URL('../dist', import.meta.url)),
}
const example = (readFileSync(new URL('../README.md', import.meta.url), 'utf8').match(/```ts\n([\s\S]*?)```/) ?? [])[1] ?? ''
let cognito: CognitoIdentityEmulator
let emulator: EntraEmulator
let folder: string

beforeAll(async () => {
  cognito = await startCognitoIdentity()
  cognito.addPool({ identityPoolId: POOL })
  emulator = await startEntraEmulator()
  emulator.trustIssuer(cognito.issuer.issuer, cognito.issuer.jwks)
  folder = mkdtempSync(join(tmpdir(), 'azcred-cognito-readme-'))
})
afterAll(async () => {
  await emulator?.close()
  await cognito?.close()
  rmSync(folder, { recursive: true, force: true })
})

it('the README example type-checks as written', () => {
  const file = join(folder, 'example.ts')
  writeFileSync(file, example)
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [join(dirname(require.resolve('@types/node/package.json')), '..')],
    paths: Object.fromEntries(Object.entries(dists).map(([name, dist]) => [name, [join(dist, 'index.d.ts')]])),
  })
  const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
  expect(problems).toEqual([])
}, 60_000)

it('run as two processes sharing its store, the README example presents the same Cognito subject to Entra', async () => {
  const script = join(folder, 'example.mjs')
  // The example is plain JavaScript apart from its imports, which point at the built packages here.
  writeFileSync(
    script,
    example.replace(/from '(@azcred\/[\w-]+)'/g, (_match, name: string) => `from '${pathToFileURL(join(dists[name] ?? '', 'index.js'))}'`),
  )
  const guard = join(folder, 'network-guard.mjs')
  writeFileSync(
    guard,
    `import { installNetworkGuard } from '${pathToFileURL(require.resolve('@azcred/tooling-vitest/network-guard'))}'\ninstallNetworkGuard()\n`,
  )
  const ca = join(folder, 'emulator-ca.pem')
  writeFileSync(ca, emulator.certificate)
  const run = (app: { tenantId: string; clientId: string }) =>
    new Promise<{ code: number; stdout: string; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', pathToFileURL(guard).href, script],
        {
          cwd: folder,
          timeout: 30_000,
          env: {
            PATH: process.env.PATH,
            NODE_EXTRA_CA_CERTS: ca,
            COGNITO_POOL_ID: POOL,
            AZURE_TENANT_ID: app.tenantId,
            AZURE_CLIENT_ID: app.clientId,
            AZURE_AUTHORITY_HOST: emulator.authorityHost,
            AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.endpoint,
            AWS_ACCESS_KEY_ID: 'AKIDAZCREDTEST',
            AWS_SECRET_ACCESS_KEY: 'azcred-test-secret',
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_CONFIG_FILE: join(folder, 'no-aws-config'),
            AWS_SHARED_CREDENTIALS_FILE: join(folder, 'no-aws-credentials'),
          },
        },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, output: `${stdout}${stderr}` }),
      )
    })

  // First start: a new identity is created and stored; no federated credential names it yet, so
  // Entra refuses and the error shows the subject to register.
  const unknown = emulator.registerApp()
  const first = await run(unknown)
  const identityId = readFileSync(join(folder, '.cognito-identity-id'), 'utf8')
  expect(identityId).toMatch(/^us-east-1:[\da-f-]{36}$/)
  expect(first.code).not.toBe(0)
  expect(first.output).toMatch(/AADSTS(70021|700213)\b/)
  expect(first.output).toContain(`sub "${identityId}"`)

  // The federated credential is registered for that subject; two later processes both succeed with it.
  const app = emulator.registerApp({
    tenantId: unknown.tenantId,
    federatedCredentials: [{ issuer: 'https://cognito-identity.amazonaws.com', subject: identityId, audiences: [POOL] }],
  })
  emulator.requests.length = 0
  const getIdsBefore = cognito.calls.filter((call) => call.operation === 'GetId').length
  const [second, third] = [await run(app), await run(app)]
  expect(second).toMatchObject({ code: 0, stdout: expect.stringMatching(/^got a token of \d+ characters\n$/) })
  expect(third).toMatchObject({ code: 0, stdout: expect.stringMatching(/^got a token of \d+ characters\n$/) })
  const subjects = emulator.requestsTo('/token').map((request) => readJwtClaims(request.form.client_assertion ?? '')?.sub)
  expect(subjects).toEqual([identityId, identityId])
  expect(cognito.calls.filter((call) => call.operation === 'GetId').length).toBe(getIdsBefore)
}, 90_000)
