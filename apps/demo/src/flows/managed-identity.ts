import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MANAGED_IDENTITY_HOST_VARIABLES, type ManagedIdentityHostKind, startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { ManagedIdentityCredential } from '@azcred/managed-identity'
import type { DemoFlow } from '../demo-flow'

function managedIdentityFlow(host: ManagedIdentityHostKind, label: string, userAssigned: boolean): DemoFlow {
  const scope = 'https://storage.azure.com/.default'
  return {
    name: `managed identity: ${label}`,
    scope,
    async run() {
      const arcKeyDirectory = host === 'azure-arc' ? mkdtempSync(join(tmpdir(), 'azcred-demo-arc-')) : undefined
      const endpoint = await startManagedIdentityEndpoint({ host, arcKeyDirectory })
      const saved = Object.fromEntries(MANAGED_IDENTITY_HOST_VARIABLES.map((name) => [name, process.env[name]]))
      try {
        // Only this host's variables are visible while the row runs.
        for (const name of MANAGED_IDENTITY_HOST_VARIABLES) delete process.env[name]
        Object.assign(process.env, endpoint.env)
        const clientId = userAssigned ? endpoint.userAssigned[0]?.clientId : undefined
        const credential = new ManagedIdentityCredential({ clientId, arcKeyDirectory })
        const token = await credential.getToken(scope)
        return { ...token, requests: endpoint.requests.length }
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
        await endpoint.close()
        if (arcKeyDirectory !== undefined) rmSync(arcKeyDirectory, { recursive: true, force: true })
      }
    },
  }
}

/** One managed identity row per host, each against its own emulated endpoint. */
export function managedIdentityFlows(): DemoFlow[] {
  return [
    managedIdentityFlow('imds', 'IMDS (user-assigned)', true),
    managedIdentityFlow('app-service', 'App Service / Functions', true),
    managedIdentityFlow('azure-arc', 'Azure Arc (key-file challenge)', false),
    managedIdentityFlow('cloud-shell', 'Cloud Shell', false),
    managedIdentityFlow('service-fabric', 'Service Fabric (pinned TLS)', true),
    managedIdentityFlow('azure-ml', 'Azure Machine Learning', true),
  ]
}
