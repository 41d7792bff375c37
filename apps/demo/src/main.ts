// `pnpm demo`: starts the Entra ID emulator on loopback, runs every flow against it, prints a table.
import { startEntraEmulator } from '@azcred/entra-emulator'
import { type DemoRow, formatTable, runFlow } from './demo-flow'
import { clientCertificateFlows } from './flows/client-certificate'
import { clientSecretFlows } from './flows/client-secret'
import { deviceCodeFlows } from './flows/device-code'
import { federatedFlows } from './flows/federated'
import { interactiveBrowserFlows } from './flows/interactive-browser'
import { managedIdentityFlows } from './flows/managed-identity'

const emulator = await startEntraEmulator()
console.log(`Entra ID emulator listening on ${emulator.url} (loopback only)\n`)
const rows: DemoRow[] = []
try {
  for (const flow of [
    ...clientSecretFlows(),
    ...clientCertificateFlows(),
    ...federatedFlows(),
    ...managedIdentityFlows(),
    ...interactiveBrowserFlows(),
    ...deviceCodeFlows(),
  ])
    rows.push(await runFlow(flow, emulator))
} finally {
  await emulator.close()
}
console.log(formatTable(rows))
const failed = rows.filter((row) => row.token.startsWith('FAILED'))
console.log(`\n${rows.length - failed.length} of ${rows.length} flows got a token.`)
process.exitCode = failed.length === 0 ? 0 : 1
