import { MANAGED_IDENTITY_HOST_VARIABLES } from '@azcred/entra-emulator'
import { vi } from 'vitest'

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
