// Storage Shared Key signing of one request: our node:crypto and WebCrypto signers against the
// official StorageSharedKeyCredentialPolicy and a plain hand-written createHmac signer, same run.
import { createHmac } from 'node:crypto'
import { pathToFileURL } from 'node:url'
// On Node the package resolves to its node:crypto build; `./webcrypto` is the build edge runtimes get.
import { createSharedKeySigner } from '@azcred/shared-key'
import { createSharedKeySigner as createWebCryptoSigner } from '@azcred/shared-key/webcrypto'
import { StorageSharedKeyCredential, StorageSharedKeyCredentialPolicy } from '@azure/storage-blob'
import { median, throughput } from './measure.mjs'

const ACCOUNT = 'devstoreaccount1'
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const URL_ = 'https://devstoreaccount1.blob.core.windows.net/photos/2026/cat.jpg?comp=block&blockid=QUFBQQ%3D%3D'
const DATE = 'Sun, 22 Nov 2026 10:00:00 GMT'
const headers = () => ({
  'x-ms-version': '2025-01-05',
  'x-ms-date': DATE,
  'x-ms-blob-type': 'BlockBlob',
  'x-ms-meta-owner': 'data-team',
  'content-type': 'image/jpeg',
  'content-length': '1024',
})

/** The minimum of core-http's WebResource the official policy reads. */
function webResource() {
  const map = new Map(Object.entries(headers()).map(([name, value]) => [name, { name, value }]))
  return {
    method: 'PUT',
    url: URL_,
    body: undefined,
    headers: {
      get: (name) => map.get(name.toLowerCase())?.value,
      set: (name, value) => map.set(name.toLowerCase(), { name, value: String(value) }),
      headersArray: () => [...map.values()],
    },
  }
}

/** The simplest correct signer for this one request shape: what a user would write by hand. */
function handWritten() {
  const key = Buffer.from(KEY, 'base64')
  return (request) => {
    const h = request.headers
    const url = new URL(request.url)
    const msHeaders = Object.keys(h)
      .filter((name) => name.startsWith('x-ms-'))
      .sort()
      .map((name) => `${name}:${h[name]}\n`)
      .join('')
    const query = [...url.searchParams.keys()]
      .sort()
      .map((name) => `\n${name}:${url.searchParams.get(name)}`)
      .join('')
    const stringToSign = `${request.method}\n\n\n${h['content-length']}\n\n${h['content-type']}\n\n\n\n\n\n\n${msHeaders}/${ACCOUNT}${url.pathname}${query}`
    return `SharedKey ${ACCOUNT}:${createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64')}`
  }
}

/** Adds the Shared Key rows through `row(metric, ours, official, ratio, goal, met)`. */
export async function benchSharedKey(row, fmt) {
  const node = createSharedKeySigner({ accountName: ACCOUNT, accountKey: KEY })
  const webCrypto = createWebCryptoSigner({ accountName: ACCOUNT, accountKey: KEY })
  const credential = new StorageSharedKeyCredential(ACCOUNT, KEY)
  const policy = new StorageSharedKeyCredentialPolicy({ sendRequest: async () => ({}) }, {}, credential)
  const manual = handWritten()
  const key = Buffer.from(KEY, 'base64')

  // The official policy stamps x-ms-date with now, so compare signatures over its own date.
  const probe = webResource()
  policy.signRequest(probe)
  const sameDate = { ...headers(), 'x-ms-date': probe.headers.get('x-ms-date') }
  const ours = (await node.authorize({ method: 'PUT', url: URL_, headers: sameDate })).authorization
  if (ours !== manual({ method: 'PUT', url: URL_, headers: sameDate })) throw new Error('bench: our signature differs from the hand-written one')
  if (ours !== probe.headers.get('authorization')) throw new Error('bench: our signature differs from the official one')

  const contenders = {
    node: () => node.authorize({ method: 'PUT', url: URL_, headers: headers() }),
    webCrypto: () => webCrypto.authorize({ method: 'PUT', url: URL_, headers: headers() }),
    official: () => policy.signRequest(webResource()),
    manual: () => manual({ method: 'PUT', url: URL_, headers: headers() }),
    hmacOnly: () => createHmac('sha256', key).update('PUT\n\n\n1024\n\nimage/jpeg\n\n\n\n\n\n\nx-ms-date:x\n/devstoreaccount1/photos').digest('base64'),
  }
  // Interleaved short rounds, median per contender: this VM's speed drifts over seconds.
  const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]))
  for (let round = 0; round < 9; round += 1) {
    for (const [name, operation] of Object.entries(contenders)) samples[name].push(await throughput(operation, 250))
  }
  const rates = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]))
  row(
    'Shared Key signatures/s (node:crypto signer)',
    fmt(rates.node),
    fmt(rates.official),
    `${fmt(rates.node / rates.official, 2)}x official, ${fmt(rates.node / rates.manual, 2)}x hand-written`,
    '>= 2x official and >= 0.9x hand-written',
    rates.node >= 2 * rates.official && rates.node >= 0.9 * rates.manual,
  )
  row(
    'Shared Key signatures/s (WebCrypto signer)',
    fmt(rates.webCrypto),
    fmt(rates.official),
    `${fmt(rates.webCrypto / rates.official, 2)}x official`,
    'reported (edge runtimes)',
    true,
  )
  row('Shared Key reference points (signatures/s)', `hand-written ${fmt(rates.manual)}`, '-', `HMAC alone ${fmt(rates.hmacOnly)}`, '-', true)
}

// `node bench/src/shared-key-bench.mjs`: these rows alone (run-all.mjs prints them with the others).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fmt = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const rows = []
  await benchSharedKey((metric, ours, official, ratio, goal, met) => rows.push({ metric, ours, official, ratio, goal, met: met ? 'yes' : 'NO' }), fmt)
  console.table(rows)
}
