import { existsSync, readFileSync } from 'node:fs'
import { ClientCertificateCredential } from '@azcred/client-certificate/node'
import type { DemoFlow } from '../demo-flow'

// A throwaway certificate made for the demo (apps/demo/fixtures): never use it anywhere else.
// Found by walking up from this module, which runs from src/flows (tests) or dist (the demo).
function fixture(name: string): string {
  for (const up of ['../', '../../', '../../../']) {
    const path = new URL(`${up}fixtures/${name}`, import.meta.url).pathname
    if (existsSync(path)) return path
  }
  throw new Error(`demo fixture ${name} not found`)
}

/** Client certificate: a PS256 assertion the emulator verifies against the uploaded certificate. */
export function clientCertificateFlows(): DemoFlow[] {
  return [
    {
      name: 'client certificate (PS256 assertion)',
      scope: 'https://vault.azure.net/.default',
      run(emulator) {
        const app = emulator.registerApp({ certificates: [readFileSync(fixture('demo.crt'), 'utf8')] })
        const credential = new ClientCertificateCredential(app.tenantId, app.clientId, fixture('demo-client.pem'), {
          authorityHost: emulator.authorityHost,
          fetch: emulator.fetch,
        })
        return credential.getToken('https://vault.azure.net/.default')
      },
    },
  ]
}
