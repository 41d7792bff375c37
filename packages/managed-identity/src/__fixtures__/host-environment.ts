import {
  MANAGED_IDENTITY_HOST_VARIABLES,
  type ManagedIdentityEndpoint,
  type ManagedIdentityHostKind,
  startManagedIdentityEndpoint,
} from '@azcred/entra-emulator'
import { afterEach, vi } from 'vitest'

// The hosts' variables, plus the ones workload identity and the proxy tests read.
const VARIABLES = [
  ...MANAGED_IDENTITY_HOST_VARIABLES,
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_AUTHORITY_HOST',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'http_proxy',
  'https_proxy',
]

/** Stubs the process environment to exactly these variables (the others are removed). */
export function hostEnvironment(values: Record<string, string>): void {
  for (const name of VARIABLES) vi.stubEnv(name, values[name])
}

/**
 * For a test file with one emulated host per test: returns a starter that launches the host and stubs
 * its environment; after each test the environment is restored and the host closed.
 */
export function useHostEndpoint(): (host: ManagedIdentityHostKind) => Promise<ManagedIdentityEndpoint> {
  let endpoint: ManagedIdentityEndpoint | undefined
  afterEach(async () => {
    vi.unstubAllEnvs()
    await endpoint?.close()
    endpoint = undefined
  })
  return async (host) => {
    endpoint = await startManagedIdentityEndpoint({ host })
    hostEnvironment(endpoint.env)
    return endpoint
  }
}
