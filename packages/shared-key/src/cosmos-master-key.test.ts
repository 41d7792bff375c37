import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { cosmosStringToSign, createCosmosMasterKeySigner } from './index'
import { createCosmosMasterKeySigner as createNodeCosmosSigner } from './node'

const MASTER_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==' // the Cosmos DB emulator's public key
const DATE = 'Sun, 22 Nov 2026 10:00:00 GMT'

describe('Cosmos DB master-key authorization', () => {
  it('signs verb, type and date lower-cased, the link as given, and URL-encodes the token', async () => {
    const request = { method: 'GET', resourceType: 'Docs', resourceLink: 'dbs/Orders/colls/2026/docs/A1', date: DATE }
    expect(cosmosStringToSign(request, DATE)).toBe(`get\ndocs\ndbs/Orders/colls/2026/docs/A1\n${DATE.toLowerCase()}\n\n`)
    const signature = createHmac('sha256', Buffer.from(MASTER_KEY, 'base64')).update(cosmosStringToSign(request, DATE)).digest('base64')
    const expected = { 'x-ms-date': DATE, authorization: encodeURIComponent(`type=master&ver=1.0&sig=${signature}`) }
    expect(await createCosmosMasterKeySigner({ masterKey: MASTER_KEY }).authorize(request)).toEqual(expected)
    expect(await createNodeCosmosSigner({ masterKey: MASTER_KEY }).authorize(request)).toEqual(expected)
  })

  it('stamps the current date when none is given', async () => {
    const headers = await createCosmosMasterKeySigner({ masterKey: MASTER_KEY }).authorize({ method: 'GET', resourceType: 'dbs', resourceLink: '' })
    expect(Math.abs(Date.parse(headers['x-ms-date']) - Date.now())).toBeLessThan(5_000)
  })
})
