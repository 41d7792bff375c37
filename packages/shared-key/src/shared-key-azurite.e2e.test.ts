// Our signers against a real Azurite (Blob, Queue, Table) on loopback, with plain undici requests.
import { createHmac } from 'node:crypto'
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, type Azurite, startAzurite } from '@azcred/tooling-azurite'
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSharedKeySigner as createWebCryptoSigner,
  generateAccountSas,
  generateServiceSas,
  type SharedKeyScheme,
  type SharedKeySigner,
  storageStringToSign,
} from './index'
import { createSharedKeySigner } from './index.node'

const VERSION = '2025-01-05'
let azurite: Azurite
const signer = createSharedKeySigner({ accountName: AZURITE_ACCOUNT, accountKey: AZURITE_ACCOUNT_KEY })
const webCryptoSigner = createWebCryptoSigner({ accountName: AZURITE_ACCOUNT, accountKey: AZURITE_ACCOUNT_KEY })

beforeAll(async () => {
  azurite = await startAzurite()
}, 60_000)
afterAll(async () => {
  await azurite?.close()
})

async function send(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  options: { headers?: Record<string, string>; body?: string; using?: SharedKeySigner | null; scheme?: SharedKeyScheme } = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { 'x-ms-version': VERSION, ...options.headers }
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  if (options.using !== null) Object.assign(headers, await (options.using ?? signer).authorize({ method, url, headers }, options.scheme))
  const response = await request(url, { method, headers, body: options.body })
  return { status: response.statusCode, body: await response.body.text() }
}

const encodePath = (name: string): string => name.split('/').map(encodeURIComponent).join('/')

describe('Blob with Shared Key', () => {
  it('creates a container, puts, lists, gets and deletes blobs with spaces, unicode and metadata', async () => {
    const container = `c${Date.now()}`
    expect((await send('PUT', `${azurite.blob}/${container}?restype=container`)).status).toBe(201)
    const names = ['plain.txt', 'with space.txt', 'naïve ü 文件.txt', 'dir/nested (1).txt']
    for (const [index, name] of names.entries()) {
      const put = await send('PUT', `${azurite.blob}/${container}/${encodePath(name)}`, {
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain; charset=utf-8', 'x-ms-meta-zeta': 'z', 'x-ms-meta-alpha': `a${index}` },
        body: `hello ${name}`,
        using: index % 2 === 0 ? signer : webCryptoSigner,
      })
      expect(put.status).toBe(201)
    }
    const got = await send('GET', `${azurite.blob}/${container}/${encodePath('naïve ü 文件.txt')}`, { using: webCryptoSigner })
    expect(got).toEqual({ status: 200, body: 'hello naïve ü 文件.txt' })
    const listed = await send('GET', `${azurite.blob}/${container}?restype=container&comp=list&prefix=${encodeURIComponent('with ')}&include=metadata`)
    expect(listed.status).toBe(200)
    expect(listed.body).toContain('<Name>with space.txt</Name>')
    expect(listed.body).toContain('<alpha>a1</alpha>')
    expect(listed.body).not.toContain('plain.txt')
    expect((await send('DELETE', `${azurite.blob}/${container}/${encodePath('with space.txt')}`)).status).toBe(202)
    expect((await send('GET', `${azurite.blob}/${container}/${encodePath('with space.txt')}`)).status).toBe(404)
  })

  it('signs Content-Encoding and Content-Language in the documented order (accepted by Azurite)', async () => {
    const container = `enc${Date.now()}`
    await send('PUT', `${azurite.blob}/${container}?restype=container`)
    const put = await send('PUT', `${azurite.blob}/${container}/greeting.txt`, {
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-encoding': 'identity', 'content-language': 'de' },
      body: 'hallo',
    })
    expect(put.status).toBe(201)
  })

  it('signs tricky x-ms-* names in the order the service compares them; the code-unit order is refused', async () => {
    const container = `order${Date.now()}`
    await send('PUT', `${azurite.blob}/${container}?restype=container`)
    // Metadata names must be C# identifiers (letters, digits, '_'); hyphens go in other x-ms-* names.
    // Every pair here sorts one way by code unit and the other way by the service's comparison. (Azurite
    // compares with localeCompare, which agrees with the service on these; for some hyphen and
    // punctuation pairs, such as x-ms-ab / x-ms-a-c, it does not, and we follow the service, checked
    // against the official SDK's comparator in official-cross-check.test.ts.)
    const tricky = {
      'x-ms-meta-i0': 'digit',
      'x-ms-meta-i_': 'underscore',
      'x-ms-meta-i9': 'nine',
      'x-ms-meta-ia': 'letter',
      'x-ms-meta-i_0': 'mixed',
      'x-ms-meta-i0_': 'mixed2',
      'x-ms-meta-_i': 'leading',
      'x-ms-meta-I': 'upper',
      'x-ms-azcred-a-0': 'hyphen-digit',
      'x-ms-azcred-a_': 'underscore-end',
      'x-ms-azcred-a-b': 'hyphen-letter',
      'x-ms-azcred-a_b': 'underscore-letter',
    }
    const url = `${azurite.blob}/${container}/tricky.txt`
    const headers = { 'x-ms-version': VERSION, 'x-ms-date': new Date().toUTCString(), 'x-ms-blob-type': 'BlockBlob', 'content-length': '2', ...tricky }
    // The same request signed over the x-ms-* lines sorted by code unit (what azcred signed before).
    const lines = storageStringToSign({ method: 'PUT', url, headers }, AZURITE_ACCOUNT).split('\n')
    const ms = lines.filter((line) => line.startsWith('x-ms-'))
    expect(ms).not.toEqual([...ms].sort()) // the test can tell the two orders apart
    const codeUnit = [...lines.filter((line) => !line.startsWith('x-ms-')).slice(0, 12), ...[...ms].sort(), lines[lines.length - 1]].join('\n')
    const signature = createHmac('sha256', Buffer.from(AZURITE_ACCOUNT_KEY, 'base64')).update(codeUnit, 'utf8').digest('base64')
    const old = await request(url, { method: 'PUT', headers: { ...headers, authorization: `SharedKey ${AZURITE_ACCOUNT}:${signature}` }, body: 'hi' })
    expect(old.statusCode).toBe(403)
    await old.body.text()
    for (const using of [signer, webCryptoSigner]) {
      expect((await send('PUT', url, { headers: { 'x-ms-blob-type': 'BlockBlob', ...tricky }, body: 'hi', using })).status).toBe(201)
    }
    const got = await request(url, {
      method: 'HEAD',
      headers: { 'x-ms-version': VERSION, ...(await signer.authorize({ method: 'HEAD', url, headers: { 'x-ms-version': VERSION } })) },
    })
    expect(got.statusCode).toBe(200)
    expect(got.headers['x-ms-meta-i_']).toBe('underscore')
    expect(got.headers['x-ms-meta-i0_']).toBe('mixed2')
    await got.body.text()
  })

  it('signs standard header values as the service reads them: a Content-Type with spaces around it is accepted', async () => {
    const container = `trim${Date.now()}`
    await send('PUT', `${azurite.blob}/${container}?restype=container`)
    const put = await send('PUT', `${azurite.blob}/${container}/spaced.txt`, {
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain ', 'content-language': ' de', 'x-ms-meta-note': ' spaced ' },
      body: 'hallo',
    })
    expect(put.status).toBe(201)
  })

  it('signs query parameter names in code-unit order, as the service does there', async () => {
    const listed = await send('GET', `${azurite.blob}?comp=list&ia=3&i_=2&i0=1&i-b=4&ib=5`)
    expect(listed.status).toBe(200)
  })

  it('accepts an x-ms-version newer than this Azurite release knows (started with --skipApiVersionCheck)', async () => {
    expect((await send('GET', `${azurite.blob}?comp=list`, { headers: { 'x-ms-version': '2099-01-01' } })).status).toBe(200)
  })

  it("the official BlobServiceClient with StorageSharedKeyCredential works against it (its x-ms-version is newer than Azurite's)", async () => {
    const client = new BlobServiceClient(azurite.blob, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY), { retryOptions: { maxTries: 1 } })
    const container = client.getContainerClient(`official${Date.now()}`)
    await container.create()
    await container.getBlockBlobClient('hello.txt').upload('hello', 5, { metadata: { i0: 'a', i_: 'b' } })
    const names: string[] = []
    for await (const blob of container.listBlobsFlat()) names.push(blob.name)
    expect(names).toEqual(['hello.txt'])
  })

  it('is refused (403) with a wrong key', async () => {
    const wrong = createSharedKeySigner({ accountName: AZURITE_ACCOUNT, accountKey: Buffer.from('0'.repeat(64)).toString('base64') })
    expect((await send('GET', `${azurite.blob}?comp=list`, { using: wrong })).status).toBe(403)
  })
})

describe('Queue with Shared Key', () => {
  it('creates a queue, puts and gets a message', async () => {
    const queue = `q${Date.now()}`
    expect((await send('PUT', `${azurite.queue}/${queue}`)).status).toBe(201)
    const put = await send('POST', `${azurite.queue}/${queue}/messages`, {
      headers: { 'content-type': 'application/xml' },
      body: '<QueueMessage><MessageText>hello queue</MessageText></QueueMessage>',
      using: webCryptoSigner,
    })
    expect(put.status).toBe(201)
    const got = await send('GET', `${azurite.queue}/${queue}/messages?numofmessages=1`)
    expect(got.status).toBe(200)
    expect(got.body).toContain('<MessageText>hello queue</MessageText>')
  })
})

describe('Table with Shared Key and Shared Key Lite', () => {
  it.each(['table', 'table-lite'] as const)('creates a table, inserts and reads an entity (%s)', async (scheme) => {
    const table = `t${scheme.replace('-', '')}${Date.now()}`
    const json = { 'content-type': 'application/json', accept: 'application/json;odata=nometadata', dataserviceversion: '3.0' }
    expect((await send('POST', `${azurite.table}/Tables`, { headers: json, body: JSON.stringify({ TableName: table }), scheme })).status).toBe(201)
    const entity = { PartitionKey: 'p1', RowKey: 'r1', City: 'Zürich' }
    expect((await send('POST', `${azurite.table}/${table}`, { headers: json, body: JSON.stringify(entity), scheme, using: webCryptoSigner })).status).toBe(201)
    const got = await send('GET', `${azurite.table}/${table}(PartitionKey='p1',RowKey='r1')`, { headers: json, scheme })
    expect(got.status).toBe(200)
    expect(JSON.parse(got.body)).toMatchObject(entity)
  })
})

describe('generated SAS', () => {
  const container = `sas${Date.now()}`
  const blobUrl = () => `${azurite.blob}/${container}/report.csv`
  const inOneHour = () => new Date(Date.now() + 3_600_000)

  beforeAll(async () => {
    await send('PUT', `${azurite.blob}/${container}?restype=container`)
    await send('PUT', blobUrl(), { headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'a,b\n1,2\n' })
  })

  it('an account SAS (read, list) reads and lists, and is refused a write', async () => {
    const sas = await generateAccountSas(signer, { services: 'b', resourceTypes: 'co', permissions: 'rl', expiresOn: inOneHour(), protocol: 'https,http' })
    expect((await send('GET', `${blobUrl()}?${sas}`, { using: null })).status).toBe(200)
    expect((await send('GET', `${azurite.blob}/${container}?restype=container&comp=list&${sas}`, { using: null })).status).toBe(200)
    const write = await send('PUT', `${blobUrl()}?${sas}`, { headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x', using: null })
    expect(write.status).toBe(403)
  })

  it('a service SAS for one blob (read) reads it, and is refused a delete', async () => {
    const sas = await generateServiceSas(webCryptoSigner, {
      resource: { kind: 'blob', container, blob: 'report.csv' },
      permissions: 'r',
      expiresOn: inOneHour(),
      contentDisposition: 'attachment; filename="report.csv"',
    })
    const read = await request(`${blobUrl()}?${sas}`, { headers: { 'x-ms-version': VERSION } })
    expect(read.statusCode).toBe(200)
    expect(read.headers['content-disposition']).toBe('attachment; filename="report.csv"')
    await read.body.text()
    expect((await send('DELETE', `${blobUrl()}?${sas}`, { using: null })).status).toBe(403)
  })

  it('a container SAS (list) lists', async () => {
    const sas = await generateServiceSas(signer, { resource: { kind: 'container', container }, permissions: 'l', expiresOn: inOneHour() })
    const listed = await send('GET', `${azurite.blob}/${container}?restype=container&comp=list&${sas}`, { using: null })
    expect(listed.status).toBe(200)
    expect(listed.body).toContain('report.csv')
  })

  it('a queue SAS (add) adds a message and is refused processing it; a table SAS (read) reads and is refused an insert', async () => {
    const queue = `sasq${Date.now()}`
    await send('PUT', `${azurite.queue}/${queue}`)
    const queueSas = await generateServiceSas(signer, { resource: { kind: 'queue', queue }, permissions: 'a', expiresOn: inOneHour() })
    const message = '<QueueMessage><MessageText>via sas</MessageText></QueueMessage>'
    expect((await send('POST', `${azurite.queue}/${queue}/messages?${queueSas}`, { body: message, using: null })).status).toBe(201)
    expect((await send('GET', `${azurite.queue}/${queue}/messages?${queueSas}`, { using: null })).status).toBe(403)

    const table = `sast${Date.now()}`
    const json = { 'content-type': 'application/json', accept: 'application/json;odata=nometadata', dataserviceversion: '3.0' }
    await send('POST', `${azurite.table}/Tables`, { headers: json, body: JSON.stringify({ TableName: table }), scheme: 'table' })
    await send('POST', `${azurite.table}/${table}`, { headers: json, body: JSON.stringify({ PartitionKey: 'p', RowKey: 'r', n: 1 }), scheme: 'table' })
    const tableSas = await generateServiceSas(webCryptoSigner, { resource: { kind: 'table', table }, permissions: 'r', expiresOn: inOneHour() })
    const read = await send('GET', `${azurite.table}/${table}(PartitionKey='p',RowKey='r')?${tableSas}`, { headers: json, using: null })
    expect(read.status).toBe(200)
    const insert = await send('POST', `${azurite.table}/${table}?${tableSas}`, {
      headers: json,
      body: JSON.stringify({ PartitionKey: 'p', RowKey: 'x' }),
      using: null,
    })
    expect(insert.status).toBe(403)
  })

  it('an expired SAS is refused', async () => {
    const past = new Date(Date.now() - 60_000)
    const account = await generateAccountSas(signer, { services: 'b', resourceTypes: 'co', permissions: 'rl', expiresOn: past })
    const service = await generateServiceSas(signer, { resource: { kind: 'blob', container, blob: 'report.csv' }, permissions: 'r', expiresOn: past })
    expect((await send('GET', `${blobUrl()}?${account}`, { using: null })).status).toBe(403)
    expect((await send('GET', `${blobUrl()}?${service}`, { using: null })).status).toBe(403)
  })
})
