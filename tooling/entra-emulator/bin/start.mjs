#!/usr/bin/env node
// Starts the emulator on loopback for a person trying a user flow by hand (`pnpm --filter
// @azcred/entra-emulator start`, after building it): registers the Azure CLI's client id as a public client
// and one user, prints the environment lines to use, and runs until Ctrl+C. Options: `--port <n>` (default:
// any free port), `--username <name>`, `--password <text>` (default: generated).
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startEntraEmulator } from '../dist/index.js'

const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    username: { type: 'string', default: 'ada@contoso.onmicrosoft.com' },
    password: { type: 'string' },
  },
})
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('--port must be an integer from 0 to 65535')
  process.exit(2)
}

const emulator = await startEntraEmulator({ port })
emulator.registerApp({ clientId: AZURE_CLI_CLIENT_ID, publicClient: true })
const user = emulator.addUser({ username: values.username, password: values.password })
const caFile = fileURLToPath(new URL('../certs/loopback-ca.crt', import.meta.url))

console.log(`Entra ID emulator on ${emulator.authorityHost} (tenant ${emulator.tenantId})
Public client: ${AZURE_CLI_CLIENT_ID} (the Azure CLI's, DeviceCodeCredential's default)
User: ${user.username}  password: ${user.password}
Sign-in page for device codes: ${emulator.authorityHost}/devicelogin

In another shell, run your program with:
export AZURE_AUTHORITY_HOST=${emulator.authorityHost}
export NODE_EXTRA_CA_CERTS=${caFile}

Ctrl+C stops the emulator.`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await emulator.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
