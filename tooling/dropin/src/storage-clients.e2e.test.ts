// The official Storage clients with azcred credentials against the real Azurite:
// - @azure/storage-blob BlobServiceClient + azcred ClientSecretCredential, Azurite in OAuth mode over
//   https (the emulator issues the v1.0 Storage tokens Azurite accepts): put, get, list;
// - @azure/data-tables TableClient + azcred AzureNamedKeyCredential (Shared Key), and + azcred
//   AzureSASCredential carrying a table SAS the official generateTableSas signed with our named key.
import { ClientSecretCredential } from '@azcred/client-secret'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { AzureNamedKeyCredential, AzureSASCredential } from '@azcred/key-credential'
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, type Azurite, startAzurite } from '@azcred/tooling-azurite'
import { generateTableSas, TableClient } from '@azure/data-tables'
import { BlobServiceClient } from '@azure/storage-blob'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AzuriteBlobOAuth, startAzuriteBlobOAuth } from './azurite'

describe('@azure/storage-blob with an azcred ClientSecretCredential (Azurite OAuth, https)', () => {
  let emulator: EntraEmulator
  let azurite: AzuriteBlobOAuth
  beforeAll(async () => {
    emulator = await startEntraEmulator({ v1TokenResources: ['https://storage.azure.com'] })
    azurite = await startAzuriteBlobOAuth()
  })
  afterAll(async () => {
    await azurite?.close()
    await emulator?.close()
  })

  it('creates a container, puts, gets and lists blobs', async () => {
    const app = emulator.registerApp()
    const credential = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const service = new BlobServiceClient(azurite.url, credential)
    const container = service.getContainerClient('dropin')
    await container.create()
    const text = 'written by @azure/storage-blob through an azcred credential'
    await container.getBlockBlobClient('hello.txt').upload(text, Buffer.byteLength(text))
    const downloaded = await container.getBlobClient('hello.txt').downloadToBuffer()
    expect(downloaded.toString('utf8')).toBe(text)
    const names: string[] = []
    for await (const blob of container.listBlobsFlat()) names.push(blob.name)
    expect(names).toEqual(['hello.txt'])
    // One token for every request (the client's own cache + ours), fetched from the emulator.
    const tokenRequests = emulator.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token'))
    expect(tokenRequests).toHaveLength(1)
    expect(tokenRequests[0]?.form.scope).toBe('https://storage.azure.com/.default')
  })

  it('Azurite refuses the same client with a credential whose secret is wrong (the token is really checked)', async () => {
    const app = emulator.registerApp()
    const credential = new ClientSecretCredential(app.tenantId, app.clientId, 'not-the-secret', {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const service = new BlobServiceClient(azurite.url, credential, { retryOptions: { maxTries: 1 } })
    await expect(service.getContainerClient('dropin').exists()).rejects.toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED' })
  })
})

describe('@azure/data-tables with azcred AzureNamedKeyCredential and AzureSASCredential (Azurite)', () => {
  let azurite: Azurite
  beforeAll(async () => {
    azurite = await startAzurite()
  })
  afterAll(async () => {
    await azurite?.close()
  })

  it('writes and reads an entity with the named key, then reads it with a SAS', async () => {
    const namedKey = new AzureNamedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY)
    const table = new TableClient(azurite.table, 'dropin', namedKey, { allowInsecureConnection: true })
    await table.createTable()
    await table.upsertEntity({ partitionKey: 'p', rowKey: '1', city: 'Oslo' })
    expect(await table.getEntity('p', '1')).toMatchObject({ city: 'Oslo' })

    const sas = generateTableSas('dropin', namedKey, { permissions: { query: true }, expiresOn: new Date(Date.now() + 3_600_000) })
    const sasTable = new TableClient(azurite.table, 'dropin', new AzureSASCredential(sas), { allowInsecureConnection: true })
    const rows: unknown[] = []
    for await (const entity of sasTable.listEntities()) rows.push(entity)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ rowKey: '1', city: 'Oslo' })
    // The SAS is read-only: a write through it is refused by Azurite.
    await expect(sasTable.upsertEntity({ partitionKey: 'p', rowKey: '2' })).rejects.toMatchObject({ statusCode: 403 })
  })

  it('a wrong named key is refused, and update() of the same credential object fixes the client', async () => {
    const namedKey = new AzureNamedKeyCredential(AZURITE_ACCOUNT, Buffer.from('wrong key of 32 bytes..........').toString('base64'))
    const table = new TableClient(azurite.table, 'dropin2', namedKey, { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } })
    await expect(table.createTable()).rejects.toMatchObject({ statusCode: 403 })
    namedKey.update(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY)
    await table.createTable()
    await table.upsertEntity({ partitionKey: 'p', rowKey: '1' })
    expect(await table.getEntity('p', '1')).toMatchObject({ rowKey: '1' })
  })
})
