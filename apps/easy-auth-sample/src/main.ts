// `pnpm sample` (repository root): starts the Easy Auth sample on loopback and prints its URL and the two users.
import { startEasyAuthSample } from './sample-environment'

const port = Number(process.env.PORT ?? 0)
// Entra on http: a browser opening the sample sees no certificate warning (the tests use https).
const sample = await startEasyAuthSample({ port: Number.isInteger(port) && port > 0 ? port : 0, entraProtocol: 'http' })
console.log(`
azcred Easy Auth sample — open ${sample.url}

  front door (emulated App Service authentication): ${sample.url}
  sample app (behind it):                           ${sample.appUrl}
  Resource Manager (emulated):                      ${sample.arm.url}
  Entra ID (emulated):                              ${sample.emulator.url}

Sign in as either user (each sees only their own resource groups and virtual machines):
  ${sample.users.ada.username}  password ${sample.users.ada.password}
  ${sample.users.bob.username}  password ${sample.users.bob.password}

Ctrl+C stops everything.`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    sample.close().then(() => process.exit(0))
  })
}
