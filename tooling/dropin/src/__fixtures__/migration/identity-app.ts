// A small app written against @azure/identity. azcred-app.ts is this file with only its import lines changed.
import { ChainedTokenCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity'

function required(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`set ${name}`)
  return value
}

async function main(): Promise<void> {
  const tenantId = required('AZURE_TENANT_ID')
  const credential: TokenCredential = new ChainedTokenCredential(
    new ClientSecretCredential(tenantId, required('AZURE_CLIENT_ID'), required('AZURE_CLIENT_SECRET'), {
      authorityHost: process.env.AZURE_AUTHORITY_HOST,
    }),
  )
  const token = await credential.getToken('https://vault.azure.net/.default')
  if (token === null) throw new Error('no token')
  const again = await credential.getToken(['https://vault.azure.net/.default'], { tenantId })
  const minutesLeft = Math.round((token.expiresOnTimestamp - Date.now()) / 60_000)
  console.log(JSON.stringify({ length: token.token.length, minutesLeft, cached: again?.token === token.token }))
}

await main()
