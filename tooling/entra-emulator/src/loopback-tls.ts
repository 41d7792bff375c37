import { readFileSync } from 'node:fs'
import { Agent, fetch as undiciFetch } from 'undici'

/**
 * The test-only TLS identity of the emulated servers (`certs/`, see `certs/regenerate.sh`): a leaf
 * for `localhost`, `127.0.0.1` and `::1` (CA:FALSE, serverAuth) and the CA that signed it. Servers
 * present the leaf plus the CA; clients trust the CA (`ca`), never the leaf itself.
 */
export interface LoopbackTls {
  /** The served chain, leaf first (PEM). */
  readonly cert: string
  /** The leaf's private key (PEM). */
  readonly key: string
  /** The CA certificate (PEM) to trust. */
  readonly ca: string
}

const folder = new URL('../certs/', import.meta.url)

export function loopbackTls(): LoopbackTls {
  const ca = readFileSync(new URL('loopback-ca.crt', folder), 'utf8')
  const leaf = readFileSync(new URL('loopback.crt', folder), 'utf8')
  return { cert: `${leaf.trimEnd()}\n${ca}`, key: readFileSync(new URL('loopback.key', folder), 'utf8'), ca }
}

/** A `fetch` (undici, keep-alive) that trusts `ca` when given, and a way to close its connections. */
export function trustingFetch(ca?: string): {
  fetch: (input: string, init?: RequestInit) => Promise<Response>
  close: () => Promise<void>
} {
  const agent = new Agent({ connect: ca === undefined ? {} : { ca }, keepAliveTimeout: 4_000 })
  const fetch = ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as (
    input: string,
    init?: RequestInit,
  ) => Promise<Response>
  return { fetch, close: () => agent.close() }
}
