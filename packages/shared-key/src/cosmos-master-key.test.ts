import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { cosmosStringToSign, createCosmosMasterKeySigner } from './index'
import { createCosmosMasterKeySigner as createNodeCosmosSigner } from './index.node'

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

describe('Cosmos DB fields are one line each', () => {
  it('refuses a line break or control character in the type, link or date, naming the field, never the key or value', async () => {
    const planted = 'planted-link-7e6d'
    const base = { method: 'GET', resourceType: 'docs', resourceLink: 'dbs/a/colls/b/docs/c', date: DATE }
    const cases: [string, Record<string, unknown>][] = [
      ['resourceLink', { resourceLink: `dbs/a\ndocs\n${planted}` }],
      ['resourceLink', { resourceLink: `${planted}\0` }],
      ['resourceType', { resourceType: 'docs\r\n' }],
      ['date', { date: `${DATE}\n${planted}` }],
      ['resourceLink', { resourceLink: undefined }],
    ]
    for (const create of [createCosmosMasterKeySigner, createNodeCosmosSigner]) {
      for (const [field, change] of cases) {
        const error = await create({ masterKey: MASTER_KEY })
          .authorize({ ...base, ...change } as never)
          .then(
            () => expect.unreachable('signed'),
            (failure: unknown) => failure,
          )
        expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(`${field} is not a string or contains a line break`) })
        const shown = [String(error), JSON.stringify(error), (error as Error).stack].join()
        expect(shown).not.toContain(planted)
        expect(shown).not.toContain(MASTER_KEY)
      }
      await expect(create({ masterKey: MASTER_KEY }).authorize({ ...base, method: 'GET\nPUT' })).rejects.toMatchObject({
        message: expect.stringContaining('request.method'),
      })
    }
  })
})
