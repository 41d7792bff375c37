import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createSharedKeySigner, generateAccountSas, generateServiceSas, type ServiceSasOptions } from './index'
import { createSharedKeySigner as createNodeSharedKeySigner } from './index.node'

// Azurite's documented development account (a public, well-known key).
const ACCOUNT = 'devstoreaccount1'
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const PLANTED = 'planted-field-value-5c4b3a'
const expiresOn = new Date('2030-01-01T00:00:00Z')
const signers = [createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY }), createNodeSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY })]

async function refused(generate: () => Promise<string>): Promise<unknown> {
  return generate().then(
    () => expect.unreachable('generated a SAS'),
    (error: unknown) => error,
  )
}

function expectRefusal(error: unknown, message: string): void {
  expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) })
  const shown = [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 5, showHidden: true })].join('\n')
  expect(shown).not.toContain(PLANTED)
  expect(shown).not.toContain(KEY)
  expect(shown).not.toContain('sig=')
}

describe('line breaks and control characters in signed SAS fields are refused, naming the field', () => {
  // Each field is one line of the string-to-sign: 'a\nb' in one would sign like 'a' and 'b' in two.
  const controls = ['\n', '\r\n', '\r', '\0', '\x1f', '\x7f']
  const blob = { kind: 'blob' as const, container: 'c', blob: 'b.txt' }

  it.each([
    ['identifier', { identifier: `${PLANTED}` }],
    ['ipRange', { ipRange: '10.0.0.1' }],
    ['encryptionScope', { encryptionScope: 'scope' }],
    ['cacheControl', { cacheControl: 'no-cache' }],
    ['contentDisposition', { contentDisposition: 'attachment' }],
    ['contentEncoding', { contentEncoding: 'gzip' }],
    ['contentLanguage', { contentLanguage: 'de' }],
    ['contentType', { contentType: 'text/csv' }],
  ])('service SAS option %s', async (field, good) => {
    for (const signer of signers) {
      // The clean value signs.
      await expect(generateServiceSas(signer, { resource: blob, permissions: 'r', expiresOn, ...good })).resolves.toContain('sig=')
      for (const control of controls) {
        const options = { resource: blob, permissions: 'r', expiresOn, [field]: `${PLANTED}${control}forged` } as ServiceSasOptions
        expectRefusal(await refused(() => generateServiceSas(signer, options)), `${field} contains a line break or control character`)
      }
    }
  })

  it.each([
    ['container', { kind: 'container', container: 'X' }],
    ['blob', { kind: 'blob', container: 'c', blob: 'X' }],
    ['container', { kind: 'blob', container: 'X', blob: 'b' }],
    ['queue', { kind: 'queue', queue: 'X' }],
    ['table', { kind: 'table', table: 'X' }],
    ['startPartitionKey', { kind: 'table', table: 't', startPartitionKey: 'X' }],
    ['endRowKey', { kind: 'table', table: 't', endRowKey: 'X' }],
    ['share', { kind: 'share', share: 'X' }],
    ['path', { kind: 'file', share: 's', path: 'X' }],
  ])('resource path part %s', async (field, shape) => {
    for (const control of controls) {
      const resource = JSON.parse(JSON.stringify(shape).replace('"X"', JSON.stringify(`${PLANTED}${control}forged`)))
      const error = await refused(() => generateServiceSas(signers[1] as never, { resource, permissions: 'r', expiresOn }))
      expectRefusal(error, `resource.${field} contains a line break or control character`)
    }
  })

  it('account SAS ipRange and encryptionScope', async () => {
    for (const field of ['ipRange', 'encryptionScope']) {
      const error = await refused(() =>
        generateAccountSas(signers[0] as never, { services: 'b', resourceTypes: 'o', permissions: 'r', expiresOn, [field]: `${PLANTED}\n` }),
      )
      expectRefusal(error, `${field} contains a line break or control character`)
    }
  })
})

describe('other bad SAS input is AZCRED_CONFIG_INVALID (a rejected promise), never a TypeError or RangeError', () => {
  const [signer] = signers as [never]

  it.each([
    ['an invalid startsOn', { startsOn: new Date('nope') }, 'startsOn is not a valid Date'],
    ['an expiresOn that is not a Date', { expiresOn: '2030-01-01' }, 'expiresOn is not a valid Date'],
    ['a protocol other than https or https,http', { protocol: 'http' }, "protocol must be 'https' or 'https,http'"],
    ['a non-string identifier', { identifier: 42 }, 'identifier must be a string'],
    ['an unknown resource kind', { resource: { kind: 'bucket' } }, "resource.kind must be 'container'"],
    ['no resource', { resource: undefined }, 'resource.kind must be'],
    ['an empty blob name', { resource: { kind: 'blob', container: 'c', blob: '' } }, 'resource.blob is missing'],
    ['a missing container', { resource: { kind: 'container' } }, 'resource.container is missing'],
  ])('%s', async (_, change, message) => {
    const options = { resource: { kind: 'blob', container: 'c', blob: 'b' }, permissions: 'r', expiresOn, ...change } as never
    expectRefusal(await refused(() => generateServiceSas(signer, options)), message)
  })

  it('missing options or signer', async () => {
    expectRefusal(await refused(() => generateAccountSas(signer, undefined as never)), 'SAS options are missing')
    expectRefusal(await refused(() => generateServiceSas(undefined as never, {} as never)), 'pass a signer from createSharedKeySigner')
  })
})
