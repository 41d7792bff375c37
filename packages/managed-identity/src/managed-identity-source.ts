import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ENV_CLIENT_ID, ENV_TENANT_ID, readEnv } from '@azcred/core'
import { ENV_FEDERATED_TOKEN_FILE } from '@azcred/workload-identity'
import { ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER } from './managed-identity-app-service'
import { ARC_AGENT_PATHS } from './managed-identity-arc'
import { ENV_MSI_SECRET } from './managed-identity-azure-ml'
import { ENV_MSI_ENDPOINT } from './managed-identity-cloud-shell'
import { ENV_IMDS_ENDPOINT, ENV_POD_IDENTITY_AUTHORITY_HOST } from './managed-identity-imds'
import { ENV_IDENTITY_SERVER_THUMBPRINT } from './managed-identity-service-fabric'

/** The hosting environments managed identity knows. */
export type ManagedIdentitySourceName = 'workload-identity' | 'service-fabric' | 'app-service' | 'azure-ml' | 'cloud-shell' | 'azure-arc' | 'imds'

/** What {@link detectManagedIdentitySource} found, and why. Names variables, never their values. */
export interface ManagedIdentitySource {
  name: ManagedIdentitySourceName
  /** One sentence: which evidence decided. */
  reason: string
  /** The variables that decided, by name. */
  variables: string[]
}

/** Options of {@link detectManagedIdentitySource}. */
export interface DetectManagedIdentitySourceOptions {
  /** A user-assigned client id from options; workload identity also accepts `AZURE_CLIENT_ID`. */
  clientId?: string
  /** Look for the Arc agent on disk when its variables are absent. Default true. */
  checkArcAgent?: boolean
}

const answers = new Map<string, ManagedIdentitySource>()

function present(...names: string[]): boolean {
  return names.every((name) => readEnv(name) !== undefined)
}

function arcAgentInstalled(): boolean {
  if (process.platform === 'linux') return existsSync(ARC_AGENT_PATHS.linux)
  if (process.platform === 'win32') return existsSync(join(process.env.ProgramFiles ?? 'C:\\Program Files', ARC_AGENT_PATHS.win32))
  return false
}

/**
 * Works out which managed identity host this process runs on, from environment variables alone (plus
 * the Arc agent's file), in the order Microsoft's libraries use: AKS workload identity, Service
 * Fabric, App Service (also Functions, Container Apps), Azure Machine Learning, Cloud Shell, Azure Arc,
 * then IMDS. Makes no network call.
 *
 * @example console.log(detectManagedIdentitySource().reason)
 */
export function detectManagedIdentitySource(options: DetectManagedIdentitySourceOptions = {}): ManagedIdentitySource {
  const found = (name: ManagedIdentitySourceName, reason: string, variables: string[]): ManagedIdentitySource => {
    // A handful of distinct answers exist; share one frozen object per answer across credentials.
    let source = answers.get(reason)
    if (source === undefined) {
      source = Object.freeze({ name, reason, variables: Object.freeze(variables) as string[] })
      answers.set(reason, source)
    }
    return source
  }
  const clientIdFrom = options.clientId !== undefined ? 'options.clientId' : ENV_CLIENT_ID
  if (present(ENV_FEDERATED_TOKEN_FILE, ENV_TENANT_ID) && (options.clientId !== undefined || present(ENV_CLIENT_ID))) {
    const variables = [ENV_FEDERATED_TOKEN_FILE, ENV_TENANT_ID, ...(options.clientId === undefined ? [ENV_CLIENT_ID] : [])]
    return found('workload-identity', `AKS workload identity: ${ENV_FEDERATED_TOKEN_FILE}, ${ENV_TENANT_ID} and ${clientIdFrom} are set`, variables)
  }
  if (present(ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER, ENV_IDENTITY_SERVER_THUMBPRINT)) {
    const variables = [ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER, ENV_IDENTITY_SERVER_THUMBPRINT]
    return found('service-fabric', `Service Fabric: ${variables.join(', ')} are set`, variables)
  }
  if (present(ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER)) {
    const variables = [ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER]
    return found('app-service', `App Service, Functions or Container Apps: ${variables.join(' and ')} are set`, variables)
  }
  if (present(ENV_MSI_ENDPOINT, ENV_MSI_SECRET)) {
    return found('azure-ml', `Azure Machine Learning: ${ENV_MSI_ENDPOINT} and ${ENV_MSI_SECRET} are set`, [ENV_MSI_ENDPOINT, ENV_MSI_SECRET])
  }
  if (present(ENV_MSI_ENDPOINT)) {
    return found('cloud-shell', `Cloud Shell: ${ENV_MSI_ENDPOINT} is set without ${ENV_MSI_SECRET}`, [ENV_MSI_ENDPOINT])
  }
  if (present(ENV_IDENTITY_ENDPOINT, ENV_IMDS_ENDPOINT)) {
    return found('azure-arc', `Azure Arc: ${ENV_IDENTITY_ENDPOINT} and ${ENV_IMDS_ENDPOINT} are set`, [ENV_IDENTITY_ENDPOINT, ENV_IMDS_ENDPOINT])
  }
  if (options.checkArcAgent !== false && arcAgentInstalled()) {
    return found('azure-arc', 'Azure Arc: the Connected Machine agent (himds) is installed', [])
  }
  const override = [ENV_POD_IDENTITY_AUTHORITY_HOST, ENV_IMDS_ENDPOINT].filter((name) => present(name))
  const where = override.length === 0 ? 'at 169.254.169.254' : `at ${override[0]}`
  return found('imds', `IMDS ${where}: no other host's variables are set (VMs, scale sets, AKS nodes)`, override.slice(0, 1))
}
