// - @azure/search-documents SearchClient with azcred's AzureKeyCredential against a loopback AI Search
//   stand-in that accepts one api-key at a time: the key is rotated on the service and `update()` on the
//   same credential object makes the same client work again.
// - getBearerTokenProvider from @azure/identity, fed an azcred credential: the bearer string is ours.
import { ClientSecretCredential } from '@azcred/client-secret'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { AzureKeyCredential } from '@azcred/key-credential'
import { getBearerTokenProvider } from '@azure/identity'
import { SearchClient } from '@azure/search-documents'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtPayload, type LoopbackHttps, sendJson, startLoopbackHttps } from './loopback-https'

describe('@azure/search-documents with an azcred AzureKeyCredential, rotated', () => {
  let search: LoopbackHttps
  let acceptedKey = 'key-one'
  const keysSeen: (string | undefined)[] = []
  beforeAll(async () => {
    search = await startLoopbackHttps((request, _body, response) => {
      const key = request.headers['api-key']
      keysSeen.push(typeof key === 'string' ? key : undefined)
      if (key !== acceptedKey) return sendJson(response, 403, { error: { code: 'Forbidden', message: 'Authentication failed: wrong api-key' } })
      // GET /indexes('hotels')/docs('1')?api-version=...
      const match = /^\/indexes\('([^']+)'\)\/docs\('([^']+)'\)/.exec(decodeURIComponent(request.url ?? ''))
      if (match === null) return sendJson(response, 404, { error: { code: 'NotFound', message: request.url } })
      sendJson(response, 200, { id: match[2], name: `hotel ${match[2]}`, '@odata.context': `${search.url}/indexes('${match[1]}')/$metadata#docs(*)/$entity` })
    })
  })
  afterAll(async () => {
    await search?.close()
  })

  it('reads a document, is refused after the service rotates its key, and works again after update()', async () => {
    const credential = new AzureKeyCredential('key-one')
    const client = new SearchClient<{ id: string; name: string }>(search.url, 'hotels', credential, { retryOptions: { maxRetries: 0 } })
    expect(await client.getDocument('1')).toMatchObject({ id: '1', name: 'hotel 1' })
    acceptedKey = 'key-two'
    await expect(client.getDocument('1')).rejects.toMatchObject({ statusCode: 403 })
    credential.update('key-two')
    expect(await client.getDocument('2')).toMatchObject({ id: '2', name: 'hotel 2' })
    expect(keysSeen).toEqual(['key-one', 'key-one', 'key-two'])
  })
})

describe('getBearerTokenProvider (@azure/identity) fed an azcred credential', () => {
  let emulator: EntraEmulator
  beforeAll(async () => {
    emulator = await startEntraEmulator()
  })
  afterAll(async () => {
    await emulator?.close()
  })

  it('returns our token for the scope, and the same one from our cache on the next call', async () => {
    const app = emulator.registerApp()
    const credential = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, {
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
    })
    const provider = getBearerTokenProvider(credential, 'https://cognitiveservices.azure.com/.default')
    const first = await provider()
    expect(jwtPayload(first)).toMatchObject({ aud: 'https://cognitiveservices.azure.com', tid: app.tenantId, azp: app.clientId })
    expect(await provider()).toBe(first)
    expect(emulator.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token'))).toHaveLength(1)
  })

  it('rejects with our error code when the credential cannot get a token', async () => {
    const app = emulator.registerApp()
    const credential = new ClientSecretCredential(app.tenantId, app.clientId, 'wrong', { authorityHost: emulator.authorityHost, fetch: emulator.fetch })
    await expect(getBearerTokenProvider(credential, 'https://cognitiveservices.azure.com/.default')()).rejects.toMatchObject({
      code: 'AZCRED_TOKEN_REQUEST_FAILED',
    })
  })
})
