// Cross-checks our Blob/Queue/File string-to-sign against the signature the official
// StorageSharedKeyCredential policy (@azure/storage-blob 12.32) puts on the same request.
import { StorageSharedKeyCredential, StorageSharedKeyCredentialPolicy } from '@azure/storage-blob'
import { describe, expect, it } from 'vitest'
import { createSharedKeySigner } from './index.node'

const ACCOUNT = 'devstoreaccount1'
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

/** The minimum of core-http's WebResource the official policy reads. */
function webResource(method: string, url: string, headers: Record<string, string>) {
  const map = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), { name, value }]))
  return {
    method,
    url,
    body: undefined,
    headers: {
      get: (name: string) => map.get(name.toLowerCase())?.value,
      set: (name: string, value: string | number) => map.set(name.toLowerCase(), { name, value: String(value) }),
      headersArray: () => [...map.values()],
    },
  }
}

async function officialAndOurs(method: string, url: string, headers: Record<string, string>): Promise<[string | undefined, string]> {
  const credential = new StorageSharedKeyCredential(ACCOUNT, KEY)
  const request = webResource(method, url, headers)
  // signRequest is protected; the policy only needs the fields webResource provides.
  const policy = new StorageSharedKeyCredentialPolicy({ sendRequest: async () => ({}) } as never, {} as never, credential) as unknown as {
    signRequest(request: unknown): void
  }
  policy.signRequest(request)
  const date = request.headers.get('x-ms-date') as string // the official policy always stamps now
  const ours = await createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY }).authorize({ method, url, headers: { ...headers, 'x-ms-date': date } })
  return [request.headers.get('authorization'), ours.authorization as string]
}

describe('the same request, signed by the official policy and by us', () => {
  it.each([
    ['a listing with an encoded prefix', 'GET', 'http://127.0.0.1:10000/devstoreaccount1/c?restype=container&comp=list&prefix=a%20b&include=metadata', {}],
    [
      'an upload with unicode path, metadata and Content-MD5',
      'PUT',
      'https://devstoreaccount1.blob.core.windows.net/c/dir/na%C3%AFve%20%E6%96%87.txt',
      {
        'x-ms-version': '2025-01-05',
        'x-ms-blob-type': 'BlockBlob',
        'x-ms-meta-zeta': 'z',
        'x-ms-meta-alpha': 'a',
        'Content-Type': 'text/plain',
        'Content-Length': '11',
        'Content-MD5': 'XrY7u+Ae7tCTyyK7j1rNww==',
      },
    ],
    [
      'a zero Content-Length and a Range',
      'GET',
      'https://devstoreaccount1.blob.core.windows.net/c/b',
      { 'Content-Length': '0', Range: 'bytes=0-99', 'If-Match': '"0x1"' },
    ],
    [
      'a queue message with conditional headers',
      'POST',
      'https://devstoreaccount1.queue.core.windows.net/q/messages?visibilitytimeout=5&messagettl=60',
      { 'Content-Type': 'application/xml', 'If-None-Match': '*', 'If-Modified-Since': 'Sun, 22 Nov 2026 10:00:00 GMT' },
    ],
  ])('%s', async (_, method, url, headers) => {
    const [official, ours] = await officialAndOurs(method, url, headers)
    expect(ours).toBe(official)
  })

  it.each([
    ['Content-Language alone', { 'Content-Language': 'de' }],
    ['Content-Encoding and Content-Language', { 'Content-Encoding': 'gzip', 'Content-Language': 'de' }],
  ])('differs where the official policy departs from the documented order: %s', async (_, headers) => {
    // The documentation (and Azurite) sign Content-Encoding before Content-Language; the official
    // JavaScript policy swaps the two lines. Ours follows the documentation; the Azurite test proves it is accepted.
    const [official, ours] = await officialAndOurs('PUT', 'https://devstoreaccount1.blob.core.windows.net/c/b', headers)
    expect(ours).not.toBe(official)
  })
})

describe('x-ms-* header order, against the official policy (which copies the service comparison)', () => {
  const url = 'https://devstoreaccount1.blob.core.windows.net/c/b'
  const named = (names: string[]) => Object.fromEntries(names.map((name, index) => [name, `v${index}`]))

  it('the tricky names: underscore, digits, hyphen, apostrophe, punctuation, letters, mixed', async () => {
    const names = [
      'x-ms-meta-i0',
      'x-ms-meta-i_',
      'x-ms-meta-ia',
      'x-ms-meta-i_0',
      'x-ms-meta-_i',
      'x-ms-ab',
      'x-ms-a-c',
      "x-ms-a'c",
      'x-ms-a-b',
      'x-ms-a~',
      'x-ms-a+',
      'x-ms-version',
    ]
    const [official, ours] = await officialAndOurs('PUT', url, named(names))
    expect(ours).toBe(official)
  })

  it('query parameter names keep the code-unit order the official policy uses there', async () => {
    const [official, ours] = await officialAndOurs('GET', `${url}?ia=3&i_=2&i0=1&i-b=4&ib=5`, { 'x-ms-meta-i0': 'a', 'x-ms-meta-i_': 'b' })
    expect(ours).toBe(official)
  })

  it('300 random sets of header names over every header-name character (seeded)', async () => {
    const alphabet = "!#$%&'*+-.^_`|~0129abyz"
    let seed = 11
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % below
    }
    for (let round = 0; round < 300; round += 1) {
      const names = new Set<string>()
      for (let count = 2 + random(5); names.size < count; ) {
        let name = 'x-ms-'
        for (let length = 1 + random(4); name.length < 5 + length; ) name += alphabet[random(alphabet.length)]
        names.add(name)
      }
      const [official, ours] = await officialAndOurs('GET', url, named([...names]))
      expect(ours, [...names].join(' ')).toBe(official)
    }
  })
})
