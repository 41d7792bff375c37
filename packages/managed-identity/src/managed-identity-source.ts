import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ARC_AGENT_PATHS } from './managed-identity-arc'
import { detectHost } from './managed-identity-hosts'
import type { DetectionRuntime, DetectManagedIdentitySourceOptions, ManagedIdentitySource } from './managed-identity-request'

export type { DetectManagedIdentitySourceOptions, ManagedIdentitySource, ManagedIdentitySourceName } from './managed-identity-request'

function arcAgentInstalled(): boolean {
  if (process.platform === 'linux') return existsSync(ARC_AGENT_PATHS.linux)
  if (process.platform === 'win32') return existsSync(join(process.env.ProgramFiles ?? 'C:\\Program Files', ARC_AGENT_PATHS.win32))
  return false
}

/** What Node adds to detection: the Arc agent on disk. */
export const NODE_DETECTION: DetectionRuntime = { arcAgentInstalled }

/**
 * Works out which managed identity host this process runs on, from environment variables alone (plus
 * the Arc agent's file), in the order Microsoft's libraries use: AKS workload identity, Service
 * Fabric, App Service (also Functions, Container Apps), Azure Machine Learning, Cloud Shell, Azure Arc,
 * then IMDS. Makes no network call.
 *
 * @example console.log(detectManagedIdentitySource().reason)
 */
export function detectManagedIdentitySource(options: DetectManagedIdentitySourceOptions = {}): ManagedIdentitySource {
  return detectHost(options, NODE_DETECTION).source
}
