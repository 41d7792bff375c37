import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { StorageSharedKeyCredential } from '@azure/storage-blob'
import { describe, expect, it } from 'vitest'
import { createSharedKeySigner, storageStringToSign, tableStringToSign } from './index'
import { createSharedKeySigner as createNodeSharedKeySigner } from './node'
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

  it('an upload: standard headers in order, Date left empty beside x-ms-date, x-ms-meta-* sorted, encoded path kept', () => {
    // A plain object: fetch's Headers would refuse the line break this vector folds.
    const headers = {
      'x-ms-meta-zeta': 'last',
      'x-ms-meta-alpha': '  first\r\n   folded  ',
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-date': DATE,
      'x-ms-version': '2025-01-05',
      'content-type': 'text/plain; charset=utf-8',
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
        'x-ms-meta-alpha:first folded',
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
