import { ENV_CLIENT_ID, ENV_TENANT_ID, readEnv } from '@azcred/core'
import { APP_SERVICE_HOST, ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER } from './managed-identity-app-service'
import { AZURE_ML_HOST } from './managed-identity-azure-ml'
import { CLOUD_SHELL_HOST } from './managed-identity-cloud-shell'
import { ENV_IMDS_ENDPOINT, IMDS_HOST } from './managed-identity-imds'
import type { DetectionRuntime, DetectManagedIdentitySourceOptions, ManagedIdentityHostEntry, ManagedIdentitySource } from './managed-identity-request'
import { whenSet } from './managed-identity-request'

/** `IDENTITY_SERVER_THUMBPRINT`: the thumbprint of Service Fabric's self-signed endpoint certificate. */
export const ENV_IDENTITY_SERVER_THUMBPRINT = 'IDENTITY_SERVER_THUMBPRINT'
/** `@azcred/workload-identity`'s `ENV_FEDERATED_TOKEN_FILE` (that package is Node-only; a test keeps them equal). */
export const FEDERATED_TOKEN_FILE = 'AZURE_FEDERATED_TOKEN_FILE'

/** The hosts whose endpoint needs Node (a token file, TLS pinning, a key file): their factories come with the Node build. */
export type NodeOnlySourceName = 'workload-identity' | 'service-fabric' | 'azure-arc'

const present = (name: string): boolean => readEnv(name) !== undefined

/**
 * Every managed identity host, in the order Microsoft's libraries detect them: the first row whose
 * evidence is found wins; IMDS, last, always matches. Each row recognises its host and builds its
 * endpoint (which builds the requests and reads the answers); the rows of hosts that need Node get
 * their factory from the Node build ({@link NodeOnlySourceName}). Adding a host is adding a row.
 */
export const MANAGED_IDENTITY_HOSTS: readonly ManagedIdentityHostEntry[] = [
  {
    name: 'workload-identity',
    detect(options) {
      const clientIdGiven = options.clientId !== undefined
      if (!present(FEDERATED_TOKEN_FILE) || !present(ENV_TENANT_ID) || (!clientIdGiven && !present(ENV_CLIENT_ID))) return undefined
      return {
        reason: `AKS workload identity: ${FEDERATED_TOKEN_FILE}, ${ENV_TENANT_ID} and ${clientIdGiven ? 'options.clientId' : ENV_CLIENT_ID} are set`,
        variables: [FEDERATED_TOKEN_FILE, ENV_TENANT_ID, ...(clientIdGiven ? [] : [ENV_CLIENT_ID])],
      }
    },
  },
  {
    name: 'service-fabric',
    detect: whenSet(
      [ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER, ENV_IDENTITY_SERVER_THUMBPRINT],
      (variables) => `Service Fabric: ${variables.join(', ')} are set`,
    ),
  },
  APP_SERVICE_HOST,
  AZURE_ML_HOST,
  CLOUD_SHELL_HOST,
  {
    name: 'azure-arc',
    detect(options, runtime: DetectionRuntime) {
      if (present(ENV_IDENTITY_ENDPOINT) && present(ENV_IMDS_ENDPOINT)) {
        return { reason: `Azure Arc: ${ENV_IDENTITY_ENDPOINT} and ${ENV_IMDS_ENDPOINT} are set`, variables: [ENV_IDENTITY_ENDPOINT, ENV_IMDS_ENDPOINT] }
      }
      if (options.checkArcAgent !== false && runtime.arcAgentInstalled?.() === true) {
        return { reason: 'Azure Arc: the Connected Machine agent (himds) is installed', variables: [] }
      }
      return undefined
    },
  },
  IMDS_HOST,
]

// A handful of distinct answers exist; one frozen object per answer is shared across credentials.
const answers = new Map<string, ManagedIdentitySource>()

/**
 * The first row of {@link MANAGED_IDENTITY_HOSTS} whose evidence is found, and that evidence as a
 * frozen {@link ManagedIdentitySource}. Makes no network call.
 */
export function detectHost(
  options: DetectManagedIdentitySourceOptions,
  runtime: DetectionRuntime,
): { entry: ManagedIdentityHostEntry; source: ManagedIdentitySource } {
  for (const entry of MANAGED_IDENTITY_HOSTS) {
    const evidence = entry.detect(options, runtime)
    if (evidence === undefined) continue
    let source = answers.get(evidence.reason)
    if (source === undefined) {
      source = Object.freeze({ name: entry.name, reason: evidence.reason, variables: Object.freeze(evidence.variables) as string[] })
      answers.set(evidence.reason, source)
    }
    return { entry, source }
  }
  // Unreachable: IMDS, the last row, always matches.
  throw new Error('no managed identity host row matched')
}
