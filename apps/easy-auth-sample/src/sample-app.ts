import { createHash } from 'node:crypto'
import { AzcredError } from '@azcred/core'
import { EasyAuthInteractionRequiredError, easyAuthCredential, readEasyAuthPrincipal } from '@azcred/easy-auth'
import { ComputeManagementClient } from '@azure/arm-compute'
import { ResourceManagementClient } from '@azure/arm-resources'
import { Hono } from 'hono'
import { samplePage } from './sample-page'

/** What the sample web app needs: its app registration, the emulated Entra and Resource Manager. */
export interface SampleAppConfig {
  /** The app registration App Service authentication signs users in to (and that calls on their behalf). */
  clientId: string
  clientSecret: string
  /** The Entra emulator's origin and a fetch that trusts it. */
  authorityHost: string
  fetch: (input: string, init?: RequestInit) => Promise<Response>
  /** The emulated Resource Manager: origin, subscription, and the CA its certificate chains to. */
  armUrl: string
  subscriptionId: string
  ca: string
  /** The Entra emulator runs on http (loopback only). Default false. */
  allowInsecureConnection?: boolean
}

const ARM_SCOPE = 'https://management.azure.com/.default'

/**
 * The sample web app (Hono): a page that lists the signed-in user's resource groups and virtual machines, and
 * the JSON API it calls, which reaches Resource Manager as the user through the official clients and
 * `easyAuthCredential`. It trusts `X-MS-*` headers (`trustHeaders: true`) because it runs behind the emulated
 * Easy Auth front door, which strips them from clients; on App Service, `WEBSITE_AUTH_ENABLED=True` does that.
 */
export function createSampleApp(config: SampleAppConfig): Hono {
  const app = new Hono()

  app.get('/', (c) => c.html(samplePage()))

  app.get('/api/resources', async (c) => {
    try {
      // One line: the request's Easy Auth headers → a credential for the signed-in user.
      const credential = easyAuthCredential(c.req.raw, {
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        trustHeaders: true,
        authorityHost: config.authorityHost,
        fetch: config.fetch,
        allowInsecureConnection: config.allowInsecureConnection === true,
      })
      const pipeline = { endpoint: config.armUrl, tlsOptions: { ca: config.ca } }
      const resources = new ResourceManagementClient(credential, config.subscriptionId, { ...pipeline, $host: config.armUrl, credentialScopes: ARM_SCOPE })
      const compute = new ComputeManagementClient(credential, config.subscriptionId, { ...pipeline, credentials: { scopes: [ARM_SCOPE] } })
      const resourceGroups = []
      for await (const group of resources.resourceGroups.list()) resourceGroups.push({ name: group.name, location: group.location })
      const virtualMachines = []
      for await (const machine of compute.virtualMachines.listAll()) {
        virtualMachines.push({
          name: machine.name,
          resourceGroup: /\/resourceGroups\/([^/]+)\//i.exec(machine.id ?? '')?.[1],
          location: machine.location,
          vmSize: machine.hardwareProfile?.vmSize,
        })
      }
      const { principal } = credential
      return c.json({ user: { id: principal.id, name: principal.name, roles: principal.roles }, resourceGroups, virtualMachines })
    } catch (error) {
      if (error instanceof EasyAuthInteractionRequiredError) {
        return c.json({ code: error.code, action: error.action, path: error.path, message: error.message }, 401)
      }
      if (AzcredError.isInstance(error)) return c.json({ code: error.code, message: error.message }, error.code === 'AZCRED_CONFIG_INVALID' ? 500 : 502)
      const status = (error as { statusCode?: unknown }).statusCode
      return c.json({ code: 'RESOURCE_MANAGER_ERROR', message: `Resource Manager answered ${typeof status === 'number' ? status : 'with an error'}` }, 502)
    }
  })

  // What reached the app, for the forged-header check: the user's name and a fingerprint of the token header (never the token).
  app.get('/api/whoami', (c) => {
    const token = c.req.header('x-ms-token-aad-access-token')
    return c.json({
      // Hono's own request object (c.req) is one of the shapes easy-auth reads.
      user: readEasyAuthPrincipal(c.req, { trustHeaders: true })?.name ?? null,
      accessTokenFingerprint: token === undefined ? null : createHash('sha256').update(token).digest('hex').slice(0, 16),
    })
  })

  return app
}
