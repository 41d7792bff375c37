import { ClientSecretCredential } from '@azcred/client-secret'
import type { TokenEvent } from '@azcred/core'
import type { DemoFlow } from '../demo-flow'

const scope = 'https://management.azure.com/.default'

/**
 * Client secret: a first token; the same call again, served from the cache; and a token whose
 * `refresh_in` has passed, served at once while the engine refreshes it in the background. Core
 * honours a `refresh_in` of at least 60 s, so that row moves this process's clock 61 s ahead
 * instead of waiting.
 */
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
      name: 'client secret (cache hit)',
      scope,
      run() {
        if (credential === undefined) throw new Error('the first-token row did not run')
        return credential.getToken(scope)
      },
    },
    {
      name: 'client secret (background refresh)',
      scope,
      async run(emulator) {
        const app = emulator.registerApp({ displayName: 'demo-refresh', refreshInSeconds: 60 })
        let refreshed: (() => void) | undefined
        const whenRefreshed = new Promise<void>((resolve) => {
          refreshed = resolve
        })
        const onEvent = (event: TokenEvent) => {
          if (event.type === 'refreshed') refreshed?.()
        }
        const refreshing = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
          authorityHost: emulator.authorityHost,
          fetch: emulator.fetch,
          onEvent,
        })
        const first = await refreshing.getToken(scope)
        const realNow = Date.now
        const skewMs = 61_000
        Date.now = () => realNow() + skewMs // 61 s later: refresh_in (60 s) has passed
        try {
          const servedAtOnce = await refreshing.getToken(scope) // old token now, refresh behind
          if (servedAtOnce.token !== first.token) throw new Error('expected the still-valid token while refreshing')
          await Promise.race([whenRefreshed, new Promise((_, reject) => setTimeout(() => reject(new Error('no refresh within 5 s')), 5000))])
          const next = await refreshing.getToken(scope)
          if (next.token === first.token) throw new Error('the background refresh did not replace the token')
          return next
        } finally {
          Date.now = realNow
        }
      },
    },
  ]
}
