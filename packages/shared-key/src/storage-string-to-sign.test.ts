import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import type { AzcredError } from '@azcred/core'
import { StorageSharedKeyCredential } from '@azure/storage-blob'
import { describe, expect, it } from 'vitest'
import { createSharedKeySigner, storageStringToSign, tableStringToSign } from './index'
import { createSharedKeySigner as createNodeSharedKeySigner } from './index.node'
import { canonicalizedResource } from './storage-string-to-sign'

// Azurite's documented development account (a public, well-known key).
const ACCOUNT = 'devstoreaccount1'
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const DATE = 'Sun, 22 Nov 2026 10:00:00 GMT'
const EMPTY_STANDARD = '\n'.repeat(11)

describe('storageStringToSign: golden vectors', () => {
  it('a listing with an empty Content-Length of 0 and sorted, decoded query parameters', () => {
    const request = {
      method: 'get',
      url: 'http://127.0.0.1:10000/devstoreaccount1/container?restype=container&comp=list&prefix=a%20b&include=metadata',
      headers: new Headers({ 'x-ms-version': '2025-01-05', 'X-MS-Date': DATE, 'Content-Length': '0' }),
    }
    expect(storageStringToSign(request, ACCOUNT)).toBe(
      `GET\n${EMPTY_STANDARD}x-ms-date:${DATE}\nx-ms-version:2025-01-05\n/devstoreaccount1/devstoreaccount1/container\ncomp:list\ninclude:metadata\nprefix:a b\nrestype:container`,
    )
  })

  it('an upload: standard headers in order, Date left empty beside x-ms-date, x-ms-meta-* sorted, values trimmed, encoded path kept', () => {
    // A plain object: fetch's Headers would trim the values itself.
    const headers = {
      'x-ms-meta-zeta': 'last',
      'x-ms-meta-alpha': ' \t first   spaced \t ',
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-date': DATE,
      'x-ms-version': '2025-01-05',
      'content-type': 'text/plain; charset=utf-8 ',
      'content-length': '11',
      'content-md5': 'XrY7u+Ae7tCTyyK7j1rNww==',
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
      Range: 'bytes=0-10',
    }
    const url = 'https://account.blob.core.windows.net/container/dir/na%20me%C3%A9.txt'
    expect(storageStringToSign({ method: 'PUT', url, headers }, 'account')).toBe(
      [
        'PUT',
        '',
        '',
        '11',
        'XrY7u+Ae7tCTyyK7j1rNww==',
        'text/plain; charset=utf-8',
        '',
        '',
        '',
        '',
        '',
        'bytes=0-10',
        'x-ms-blob-type:BlockBlob',
        `x-ms-date:${DATE}`,
        'x-ms-meta-alpha:first   spaced',
        'x-ms-meta-zeta:last',
        'x-ms-version:2025-01-05',
        '/account/container/dir/na%20me%C3%A9.txt',
      ].join('\n'),
    )
  })

  it('repeated query parameters: names lower-cased, values sorted and comma-joined', () => {
    const signed = storageStringToSign({ method: 'GET', url: 'https://a.queue.core.windows.net/q?b=x&a=2&A=1', headers: { 'x-ms-date': DATE } }, 'a')
    expect(signed.endsWith('/a/q\na:1,2\nb:x')).toBe(true)
  })
})

describe('canonicalizedResource: string URLs split without URL agree with new URL', () => {
  // The fast path must give what WHATWG URL parsing (and so the transport) gives, or step aside.
  const urls = [
    'https://a.blob.core.windows.net/c/b.txt',
    'HTTPS://A.blob.core.windows.net/c/b.txt?COMP=list&Prefix=x',
    'http://127.0.0.1:10000/devstoreaccount1/c?restype=container&comp=list&prefix=a%20b&include=metadata',
    'https://a.blob.core.windows.net',
    'https://a.blob.core.windows.net?comp=list',
    'https://a.blob.core.windows.net/?',
    'https://a.blob.core.windows.net/c/b?x=1#frag?y=2',
    'https://a.blob.core.windows.net/c/./b/../d',
    'https://a.blob.core.windows.net/c/%2e%2E/d',
    'https://a.blob.core.windows.net/c/.hidden',
    'https://a.blob.core.windows.net/c/na me é.txt?q=é ü',
    'https://a.blob.core.windows.net/c\\b',
    'https://a.blob.core.windows.net/c/b\ttab?x=a\tb',
    'https://a.blob.core.windows.net/c/{b}^|[x]`<>"?v="<>\'',
    'https://a.blob.core.windows.net/c//double//slash?a=1&a=0&b&=x&&c=%zz',
    'https://user:pw@a.blob.core.windows.net:8443/c/b?sv=2025&sig=a%2Bb%3D+c',
    ' https://a.blob.core.windows.net/c/lead-space',
    'https://a.blob.core.windows.net/c/b?x=a\tb&y=c\nd',
    'https://a.blob.core.windows.net/c/b?x=trailing-space ',
  ]
  it.each(urls)('%s', (url) => {
    expect(canonicalizedResource(url, 'a')).toBe(canonicalizedResource(new URL(url), 'a'))
    const table = (target: string | URL) => tableStringToSign({ method: 'GET', url: target, headers: { 'x-ms-date': DATE } }, 'a')
    expect(table(url)).toBe(table(new URL(url)))
  })
})

describe('signers', () => {
  const request = { method: 'GET', url: 'http://127.0.0.1:10000/devstoreaccount1/c?comp=list', headers: { 'x-ms-date': DATE, 'x-ms-version': '2025-01-05' } }
  const expected = createHmac('sha256', Buffer.from(KEY, 'base64')).update(storageStringToSign(request, ACCOUNT), 'utf8').digest('base64')

  it('WebCrypto and node:crypto builds agree with a plain createHmac and with the official HMAC', async () => {
    const official = new StorageSharedKeyCredential(ACCOUNT, KEY).computeHMACSHA256(storageStringToSign(request, ACCOUNT))
    expect(official).toBe(expected)
    for (const create of [createSharedKeySigner, createNodeSharedKeySigner]) {
      expect(await create({ accountName: ACCOUNT, accountKey: KEY }).authorize(request)).toEqual({ authorization: `SharedKey ${ACCOUNT}:${expected}` })
    }
  })

  it('adds x-ms-date when the request has no date, and signs with it', async () => {
    const signer = createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY })
    const added = await signer.authorize({ method: 'GET', url: request.url, headers: {} })
    expect(Date.parse(added['x-ms-date'] ?? '')).toBeGreaterThan(Date.now() - 5000)
    const resigned = await signer.authorize({ method: 'GET', url: request.url, headers: { 'x-ms-date': added['x-ms-date'] as string } })
    expect(resigned.authorization).toBe(added.authorization)
  })

  it('refuses an unknown scheme instead of signing with the wrong rules', async () => {
    for (const create of [createSharedKeySigner, createNodeSharedKeySigner]) {
      const signer = create({ accountName: ACCOUNT, accountKey: KEY })
      await expect(signer.authorize(request, 'blob' as never)).rejects.toMatchObject({
        code: 'AZCRED_CONFIG_INVALID',
        message: expect.stringContaining("'table-lite'"),
      })
    }
  })

  it('refuses a bad account name or key without showing the key', () => {
    expect(() => createSharedKeySigner({ accountName: 'Bad_Name', accountKey: KEY })).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    const planted = 'not base64 planted-account-key!'
    let failure: unknown
    try {
      createNodeSharedKeySigner({ accountName: ACCOUNT, accountKey: planted })
    } catch (error) {
      failure = error
    }
    expect(failure).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('the key is not base64') })
    expect([String(failure), JSON.stringify(failure), inspect(failure)].join()).not.toContain('planted-account-key')
    expect(inspect(createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY }), { showHidden: true, depth: 5 })).not.toContain(KEY)
  })
})

/** Everything an error shows: message, stack, JSON and util.inspect. */
function shown(error: unknown): string {
  return [String(error), (error as Error)?.stack, JSON.stringify(error), inspect(error, { depth: 5, showHidden: true })].join('\n')
}

/** The x-ms-* names of a string-to-sign, in the order they are signed. */
function signedNames(names: string[]): string[] {
  const headers = Object.fromEntries(names.map((name) => [name, 'v']))
  return storageStringToSign({ method: 'GET', url: 'https://a.blob.core.windows.net/c', headers }, 'a')
    .split('\n')
    .filter((line) => line.startsWith('x-ms-'))
    .map((line) => line.slice(0, -2))
}

describe('x-ms-* header order: the service sorts with its own comparison, not by code unit', () => {
  it('puts x-ms-meta-i_ before x-ms-meta-i0 (the issue example; code units say the opposite)', () => {
    expect(signedNames(['x-ms-meta-i0', 'x-ms-meta-i_'])).toEqual(['x-ms-meta-i_', 'x-ms-meta-i0'])
  })

  it('orders underscore, digits, letters, punctuation, hyphen and apostrophe as the service does', () => {
    // The expected order is the one the official SDK's comparator (a copy of the service's .NET
    // culture-aware sort) gives: '-' and "'" count only when the names are otherwise equal, punctuation
    // comes before '+', '+' before digits, digits before letters, a shorter name first.
    const expected = [
      'x-ms-a!',
      'x-ms-a.b',
      'x-ms-a~',
      'x-ms-a+',
      'x-ms-ab',
      'x-ms-a-b',
      'x-ms-ac',
      "x-ms-a'c",
      'x-ms-a-c',
      'x-ms-date',
      'x-ms-meta-_i',
      'x-ms-meta-i',
      'x-ms-meta-i_',
      'x-ms-meta-i_0',
      'x-ms-meta-i0',
      'x-ms-meta-i0_',
      'x-ms-meta-i9',
      'x-ms-meta-ia',
      'x-ms-version',
    ]
    for (const order of [[...expected].reverse(), [...expected].sort(), [...expected].sort((a, b) => b.length - a.length || (a < b ? 1 : -1))]) {
      expect(signedNames(order)).toEqual(expected)
    }
  })

  it('lower-cases names before ordering them', () => {
    expect(signedNames(['X-MS-META-I0', 'x-ms-meta-I_', 'X-Ms-Date'])).toEqual(['x-ms-date', 'x-ms-meta-i_', 'x-ms-meta-i0'])
  })

  it('keeps query parameters in code-unit order (the service and the official SDKs do)', () => {
    const signed = storageStringToSign({ method: 'GET', url: 'https://a.blob.core.windows.net/c?i0=1&i_=2&ia=3', headers: { 'x-ms-date': DATE } }, 'a')
    expect(signed.endsWith('/a/c\ni0:1\ni_:2\nia:3')).toBe(true)
  })
})

describe('header values as the service reads them', () => {
  it('drops the spaces and tabs around standard and x-ms-* values, and signs a plain object like Headers', () => {
    const url = 'https://a.blob.core.windows.net/c/b'
    const plain = { 'content-type': 'text/plain ', 'content-language': '\tde', 'x-ms-date': ` ${DATE}\t`, range: ' bytes=0-1 ', 'x-ms-meta-a': '  x y ' }
    const signed = storageStringToSign({ method: 'PUT', url, headers: plain }, 'a')
    expect(signed).toBe(`PUT\n\nde\n\n\ntext/plain\n\n\n\n\n\nbytes=0-1\nx-ms-date:${DATE}\nx-ms-meta-a:x y\n/a/c/b`)
    expect(storageStringToSign({ method: 'PUT', url, headers: new Headers(plain) }, 'a')).toBe(signed)
    const table = tableStringToSign(
      { method: 'PUT', url, headers: { 'content-type': ' application/json ', 'content-md5': 'bWQ1 ', 'x-ms-date': `${DATE} ` } },
      'a',
    )
    expect(table).toBe(`PUT\nbWQ1\napplication/json\n${DATE}\n/a/c/b`)
  })
})

describe('one header name given in several cases in a plain object: signed as fetch sends it (merged by Headers)', () => {
  const url = 'https://a.blob.core.windows.net/c/b'
  const cases: [string, Record<string, string>][] = [
    [
      'the reviewer example: x-ms-meta-a and Content-Type twice',
      { 'x-ms-date': DATE, 'x-ms-meta-a': '1', 'X-MS-META-A': '2', 'Content-Type': 'text/plain', 'content-type': 'application/json' },
    ],
    [
      'three spellings, spaces around the values, an empty one in the middle',
      { 'x-ms-date': DATE, 'x-ms-meta-b': ' 1 ', 'X-Ms-Meta-B': '', 'X-MS-META-B': '	3 ' },
    ],
    ['x-ms-date twice, and Date beside it', { 'x-ms-date': DATE, 'X-MS-DATE': DATE, Date: DATE }],
    ['a standard header twice, Content-Length', { 'x-ms-date': DATE, 'content-length': '0', 'Content-Length': '0' }],
    [
      'a name repeated after others',
      { 'X-MS-META-C': 'one', 'x-ms-date': DATE, 'x-ms-version': '2025-01-05', 'x-ms-meta-c': 'two', Range: 'bytes=0-1', range: 'bytes=2-3' },
    ],
  ]
  it.each(cases)('%s', async (_name, headers) => {
    const wire = new Headers(headers) // what fetch sends for this object
    expect(storageStringToSign({ method: 'PUT', url, headers }, 'a')).toBe(storageStringToSign({ method: 'PUT', url, headers: wire }, 'a'))
    expect(tableStringToSign({ method: 'PUT', url, headers }, 'a')).toBe(tableStringToSign({ method: 'PUT', url, headers: wire }, 'a'))
    for (const create of [createSharedKeySigner, createNodeSharedKeySigner]) {
      const signer = create({ accountName: ACCOUNT, accountKey: KEY })
      for (const scheme of ['storage', 'table', 'table-lite'] as const) {
        expect(await signer.authorize({ method: 'PUT', url, headers }, scheme)).toEqual(await signer.authorize({ method: 'PUT', url, headers: wire }, scheme))
      }
    }
  })

  it('the reviewer example signs one merged line per name, values in insertion order', () => {
    const signed = storageStringToSign({ method: 'PUT', url, headers: cases[0]?.[1] as Record<string, string> }, 'a')
    expect(signed).toBe(`PUT




text/plain, application/json






x-ms-date:${DATE}
x-ms-meta-a:1, 2
/a/c/b`)
  })

  it('refuses, as a rejected AZCRED_CONFIG_INVALID without the value, what Headers cannot merge', async () => {
    const planted = 'planted-header-secret'
    const headers = { 'x-ms-date': DATE, 'x-ms-meta-a': `1${planted}\0`, 'X-MS-META-A': '2' }
    const error = await createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY })
      .authorize({ method: 'PUT', url, headers })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: 'request.headers has a name or value fetch refuses: fix it' })
    const seen = [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n')
    expect(seen).not.toContain(planted)
    expect(() => storageStringToSign({ method: 'PUT', url, headers }, 'a')).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
  })
})

describe('line breaks and control characters in signed fields are refused, naming the field', () => {
  const planted = 'planted-value-9f8e7d'
  const signers = [createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY }), createNodeSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY })]
  const url = 'https://a.blob.core.windows.net/c/b'

  async function refusal(request: { method: string; url: string; headers: Record<string, string> }, scheme?: 'table' | 'table-lite'): Promise<AzcredError[]> {
    const failures: AzcredError[] = []
    for (const signer of signers) {
      const result = signer.authorize(request, scheme) // a rejected promise, never a synchronous throw
      await result.then(
        () => expect.unreachable('signed a request with a control character'),
        (error: AzcredError) => failures.push(error),
      )
    }
    return failures
  }

  it.each([
    ['content-type', 'x-ms-date'],
    ['content-md5', 'x-ms-date'],
    ['range', 'x-ms-date'],
    ['if-match', 'x-ms-date'],
    ['x-ms-meta-note', 'x-ms-date'],
    ['x-ms-version', 'x-ms-date'],
    ['x-ms-date', 'x-ms-version'],
  ])('in header %s', async (name, other) => {
    for (const control of ['\r\n', '\n', '\r', '\0', '\x01', '\x1b', '\x7f']) {
      const headers = { [other]: other === 'x-ms-date' ? DATE : '2025-01-05', [name]: `${planted}${control}x-ms-forged:1` }
      for (const error of await refusal({ method: 'PUT', url, headers })) {
        expect(error).toMatchObject({
          code: 'AZCRED_CONFIG_INVALID',
          message: `header ${name} contains a line break or control character: remove it`,
        })
        expect(shown(error)).not.toContain(planted)
        expect(shown(error)).not.toContain(KEY)
      }
    }
  })

  it('in the Table headers', async () => {
    for (const scheme of ['table', 'table-lite'] as const) {
      for (const name of ['content-type', 'content-md5', 'x-ms-date', 'date']) {
        for (const error of await refusal({ method: 'GET', url, headers: { [name]: `${planted}\nforged` } }, scheme)) {
          expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(`header ${name} contains a line break`) })
          expect(shown(error)).not.toContain(planted)
        }
      }
    }
  })

  it('in an x-ms-* header name (no header name can hold one)', async () => {
    for (const name of [`x-ms-meta-a\nx-ms-meta-b`, 'x-ms-meta-a:b', 'x-ms-meta a', 'x-ms-meta-\u00e9', 'x-ms-meta-(a)']) {
      for (const error of await refusal({ method: 'PUT', url, headers: { 'x-ms-date': DATE, [name]: planted } })) {
        expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining('x-ms- header name') })
        expect(shown(error)).not.toContain(planted)
      }
    }
  })

  it('in a decoded query parameter, or a ":" in its name: two different queries would share one string-to-sign', async () => {
    // `?a=1%0Ab:2` would sign exactly like `?a=1&b=2`.
    const cases: [string, string][] = [
      [`${url}?a=1%0Ab:2`, 'query parameter a contains a line break'],
      [`${url}?comp=list&prefix=${planted}%0D%0A`, 'query parameter prefix contains a line break'],
      [`${url}?x%0A=1`, 'a query parameter name contains a line break'],
      [`${url}?a%00=1`, 'a query parameter name contains a line break'],
      [`${url}?a%3Ab=1`, "a query parameter name contains ':'"],
      [`${url}?a:b=1`, "a query parameter name contains ':'"],
    ]
    for (const [target, message] of cases) {
      for (const error of await refusal({ method: 'GET', url: target, headers: { 'x-ms-date': DATE } })) {
        expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringContaining(message) })
        expect(shown(error)).not.toContain(planted)
      }
      // The same request given as a URL object.
      await expect(signers[0]?.authorize({ method: 'GET', url: new URL(target) as never, headers: { 'x-ms-date': DATE } })).rejects.toMatchObject({
        message: expect.stringContaining(message),
      })
    }
    for (const scheme of ['table', 'table-lite'] as const) {
      const [error] = await refusal({ method: 'GET', url: `${url}?comp=acl%0Aforged`, headers: { 'x-ms-date': DATE } }, scheme)
      expect(error?.message).toContain('query parameter comp contains a line break')
    }
  })

  it('a bad method, URL or request is a rejected AZCRED_CONFIG_INVALID, never a TypeError', async () => {
    const bad: [unknown, string][] = [
      [{ method: 'GET\nPUT', url, headers: {} }, 'request.method'],
      [{ method: undefined, url, headers: {} }, 'request.method'],
      [{ method: 'GET', url: 'not a url', headers: {} }, 'request.url'],
      [{ method: 'GET', url: undefined, headers: {} }, 'request.url'],
      [null, 'authorize needs a request'],
    ]
    for (const [request, message] of bad) {
      // Shared Key Lite does not sign the method.
      for (const scheme of message === 'request.method' ? (['storage', 'table'] as const) : (['storage', 'table', 'table-lite'] as const)) {
        for (const signer of signers) {
          await expect(signer.authorize(request as never, scheme)).rejects.toMatchObject({
            code: 'AZCRED_CONFIG_INVALID',
            message: expect.stringContaining(message),
          })
        }
      }
    }
  })

  it('still signs a request without headers, and tabs inside a value (HTTP allows them)', async () => {
    const [signer] = signers
    await expect(signer?.authorize({ method: 'GET', url } as never)).resolves.toHaveProperty('authorization')
    expect(storageStringToSign({ method: 'GET', url, headers: { 'x-ms-date': DATE, 'x-ms-meta-a': 'x\ty' } }, 'a')).toContain('x-ms-meta-a:x\ty\n')
  })
})
