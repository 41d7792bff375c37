import { ClientSecretCredential } from '@azcred/client-secret'
import type { DemoFlow } from '../demo-flow'

const scope = 'https://management.azure.com/.default'

/** Client secret: a first token, then the same call again served from the cache. */
export function clientSecretFlows(): DemoFlow[] {
  let credential: ClientSecretCredential | undefined
  return [
    {
      name: 'client secret (first token)',
      scope,
      run(emulator) {
        const app = emulator.registerApp({ displayName: 'demo-client-secret', roles: ['Reader'] })
        credential = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, { authorityHost: emulator.authorityHost, fetch: emulator.fetch })
        return credential.getToken(scope)
      },
    },
    {
      name: 'client secret (cached)',
      scope,
      run() {
        if (credential === undefined) throw new Error('the first-token row did not run')
        return credential.getToken(scope)
      },
    },
  ]
}
