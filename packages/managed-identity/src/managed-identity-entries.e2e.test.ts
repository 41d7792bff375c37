import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { TokenCache, TokenEvent } from '@azcred/core'
import {
  createOidcIssuer,
  type ManagedIdentityEndpoint,
  type ManagedIdentityHostKind,
  startEntraEmulator,
  startManagedIdentityEndpoint,
} from '@azcred/entra-emulator'
import { ENV_FEDERATED_TOKEN_FILE } from '@azcred/workload-identity'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { hostEnvironment } from './__fixtures__/host-environment'
import * as imdsEntry from './imds'
import * as agnosticBuild from './index'
import * as nodeBuild from './index.node'
import { FEDERATED_TOKEN_FILE, MANAGED_IDENTITY_HOSTS, type NodeOnlySourceName } from './managed-identity-hosts'
import type { ManagedIdentityCredentialOptions } from './managed-identity-options'
import type { ManagedIdentitySourceName } from './managed-identity-request'

// The three entries of the package: `.` under the `node` condition, `.` elsewhere, and `./imds`.
type Entry = 'node' | 'agnostic' | 'imds'
const CREDENTIALS = {
  node: nodeBuild.ManagedIdentityCredential,
  agnostic: agnosticBuild.ManagedIdentityCredential,
  imds: imdsEntry.ManagedIdentityCredential,
} as const
const SCOPE = 'https://vault.azure.net/.default'
const NODE_ONLY: NodeOnlySourceName[] = ['workload-identity', 'service-fabric', 'azure-arc']
const FETCH_ONLY: ManagedIdentityHostKind[] = ['imds', 'app-service', 'azure-ml', 'cloud-shell']

const endpoints: ManagedIdentityEndpoint[] = []
const cleanups: Array<() => Promise<void> | void> = []
let arcFolder: string

async function start(host: ManagedIdentityHostKind): Promise<ManagedIdentityEndpoint> {
  const endpoint = await startManagedIdentityEndpoint({ host, ...(host === 'azure-arc' ? { arcKeyDirectory: arcFolder } : {}) })
  endpoints.push(endpoint)
  hostEnvironment(endpoint.env)
  return endpoint
}

/** AKS workload identity against the Entra emulator: its environment, and the options that reach it. */
async function startWorkloadIdentity(): Promise<ManagedIdentityCredentialOptions> {
  const emulator = await startEntraEmulator()
  const cluster = await createOidcIssuer('https://oidc.aks.example.invalid/cluster/')
  const folder = mkdtempSync(join(tmpdir(), 'azcred-mi-entries-'))
  cleanups.push(
    () => emulator.close(),
    () => rmSync(folder, { recursive: true, force: true }),
  )
  emulator.trustIssuer(cluster.issuer, cluster.jwks)
  const subject = 'system:serviceaccount:default:worker'
  const app = emulator.registerApp({ federatedCredentials: [{ issuer: cluster.issuer, subject }] })
  const tokenFile = join(folder, 'token')
  writeFileSync(tokenFile, await cluster.issue({ subject, audience: 'api://AzureADTokenExchange' }))
  hostEnvironment({ AZURE_TENANT_ID: app.tenantId, AZURE_FEDERATED_TOKEN_FILE: tokenFile, AZURE_AUTHORITY_HOST: emulator.authorityHost })
  return { clientId: app.clientId, fetch: emulator.fetch }
}

/** Starts `host` (or workload identity) and returns the options the credential needs there. */
async function prepare(host: ManagedIdentityHostKind | 'workload-identity'): Promise<ManagedIdentityCredentialOptions> {
  if (host === 'workload-identity') return startWorkloadIdentity()
  await start(host)
  return host === 'azure-arc' ? { arcKeyDirectory: arcFolder } : {}
}

// Every entry, with every host it serves.
const SERVED: Array<[Entry, ManagedIdentityHostKind | 'workload-identity']> = [
  ...(['imds', 'app-service', 'azure-ml', 'cloud-shell', 'azure-arc', 'service-fabric', 'workload-identity'] as const).map(
    (host) => ['node', host] as [Entry, ManagedIdentityHostKind | 'workload-identity'],
  ),
  ...FETCH_ONLY.map((host) => ['agnostic', host] as [Entry, ManagedIdentityHostKind]),
  ['imds', 'imds'],
]

beforeAll(() => {
  arcFolder = mkdtempSync(join(tmpdir(), 'azcred-mi-entries-arc-'))
})
afterEach(async () => {
  vi.unstubAllEnvs()
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()))
  for (const cleanup of cleanups.splice(0)) await cleanup()
})
afterAll(() => {
  rmSync(arcFolder, { recursive: true, force: true })
})

describe('the host table', () => {
  it('has one row per host, IMDS last, and a factory on every row but the hosts that need Node', () => {
    const names = MANAGED_IDENTITY_HOSTS.map((entry) => entry.name)
    const every: ManagedIdentitySourceName[] = ['workload-identity', 'service-fabric', 'app-service', 'azure-ml', 'cloud-shell', 'azure-arc', 'imds']
    expect([...names].sort()).toEqual([...every].sort())
    expect(names.at(-1)).toBe('imds')
    expect(MANAGED_IDENTITY_HOSTS.filter((entry) => entry.create === undefined).map((entry) => entry.name)).toEqual(NODE_ONLY)
  })

  it("names workload identity's token-file variable as @azcred/workload-identity does", () => {
    expect(FEDERATED_TOKEN_FILE).toBe(ENV_FEDERATED_TOKEN_FILE)
  })
})

describe('the two builds of `.` (runtime split, STYLE §5)', () => {
  it('export the same names', () => {
    expect(Object.keys(agnosticBuild).sort()).toEqual(Object.keys(nodeBuild).sort())
  })

  it.each([
    { AZURE_FEDERATED_TOKEN_FILE: '/var/run/token', AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', IDENTITY_ENDPOINT: 'e', IDENTITY_HEADER: 'h' },
    { IDENTITY_ENDPOINT: 'https://10.0.0.4:2377/x', IDENTITY_HEADER: 'h', IDENTITY_SERVER_THUMBPRINT: 'AB' },
    { IDENTITY_ENDPOINT: 'http://127.0.0.1:41741/msi/token', IDENTITY_HEADER: 'h', MSI_ENDPOINT: 'm', MSI_SECRET: 's' },
    { MSI_ENDPOINT: 'http://127.0.0.1:46808/MSI/auth', MSI_SECRET: 's' },
    { MSI_ENDPOINT: 'http://localhost:50342/oauth2/token' },
    { IDENTITY_ENDPOINT: 'http://localhost:40342/metadata/identity/oauth2/token', IMDS_ENDPOINT: 'http://localhost:40342' },
    { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:1' },
    {},
  ] as Record<string, string>[])('detect the same host from the same variables (%o)', (values) => {
    hostEnvironment(values)
    expect(agnosticBuild.detectManagedIdentitySource({ checkArcAgent: false })).toBe(nodeBuild.detectManagedIdentitySource({ checkArcAgent: false }))
  })

  it.each(FETCH_ONLY)('the runtime-agnostic build serves %s with fetch alone', async (host) => {
    const endpoint = await start(host)
    const credential = new agnosticBuild.ManagedIdentityCredential()
    expect(credential.source.name).toBe(host)
    await expect(credential.getToken(SCOPE)).resolves.toMatchObject({ tokenType: 'Bearer' })
    expect(endpoint.requests.length).toBeGreaterThan(0)
  })

  it.each(['service-fabric', 'azure-arc'] as const)(
    'the runtime-agnostic build finds %s and reports it unavailable, sending nothing and naming no value',
    async (host) => {
      const endpoint = await start(host)
      const credential = new agnosticBuild.ManagedIdentityCredential()
      expect(credential.source.name).toBe(host)
      const failure = await credential.getToken(SCOPE).catch((error: unknown) => error)
      expect(failure).toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE', message: expect.stringContaining('needs Node') })
      expect((failure as Error).message).toContain(credential.source.reason)
      expect(endpoint.requests).toHaveLength(0)
      const shown = [String(failure), JSON.stringify(failure), inspect(failure, { depth: 10 })].join('\n')
      for (const value of Object.values(endpoint.env)) expect(shown).not.toContain(value)
    },
  )

  it('the runtime-agnostic build reports AKS workload identity unavailable too', async () => {
    const options = await startWorkloadIdentity()
    const credential = new agnosticBuild.ManagedIdentityCredential(options)
    expect(credential.source.name).toBe('workload-identity')
    await expect(credential.getToken(SCOPE)).rejects.toMatchObject({ code: 'AZCRED_SOURCE_UNAVAILABLE' })
  })
})

describe('lifecycle options reach the engine on every entry and host (one typed pick)', () => {
  it.each(SERVED)('%s entry, %s: onEvent hears the engine acquire the token', async (entry, host) => {
    const options = await prepare(host)
    const events: TokenEvent[] = []
    const credential = new CREDENTIALS[entry]({ ...options, onEvent: (event) => events.push(event) })
    await credential.getToken(SCOPE)
    expect(events.filter((event) => event.type === 'acquired')).toHaveLength(1)
  })

  it.each(SERVED)('%s entry, %s: a tokenCache is never dropped silently (used, or refused by name)', async (entry, host) => {
    const options = await prepare(host)
    let reads = 0
    const tokenCache: TokenCache = {
      read: async () => {
        reads += 1
        return undefined
      },
      write: async () => {},
      remove: async () => {},
      scrub: async () => {},
    }
    let refusal: unknown
    try {
      await new CREDENTIALS[entry]({ ...options, tokenCache }).getToken(SCOPE)
    } catch (error) {
      refusal = error
    }
    if (refusal === undefined) expect(reads).toBeGreaterThan(0)
    else expect(refusal).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('tokenCache') })
  })
})
