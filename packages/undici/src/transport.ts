import { type FetchLike, proxyFromEnv } from '@azcred/core'
import { Agent, type Dispatcher, EnvHttpProxyAgent, fetch } from 'undici'

/** Options of {@link createTransport}. Times in milliseconds. */
export interface TransportOptions {
  /** Time to open a connection (TCP + TLS). Default 10 000. */
  connectTimeoutMs?: number
  /** Time to the response headers. Default 30 000. */
  headersTimeoutMs?: number
  /** Longest pause between body chunks. Default 30 000. */
  bodyTimeoutMs?: number
  /** How long an idle keep-alive socket is kept. Default 30 000. */
  keepAliveTimeoutMs?: number
  /** Sockets per origin. Default 16. */
  connections?: number
  /** `env` (default): honour `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`; `false`: always direct. */
  proxy?: 'env' | false
}

/** A dispatcher and a `fetch` bound to it. */
export interface Transport {
  readonly dispatcher: Dispatcher
  /** Pass as any azcred credential's `fetch` option. */
  readonly fetch: FetchLike
  /** Closes every socket. */
  close(): Promise<void>
}

/**
 * A tuned Node transport: keep-alive, connect/headers/body timeouts, and proxies from the
 * environment through undici's `EnvHttpProxyAgent` (which honours `NO_PROXY`).
 * @example const transport = createTransport(); new ClientSecretCredential(t, c, s, { fetch: transport.fetch })
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 30_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    connections: options.connections ?? 16,
  }
  const proxied = options.proxy !== false && proxyFromEnv()
  const dispatcher: Dispatcher = proxied ? new EnvHttpProxyAgent(agentOptions) : new Agent(agentOptions)
  return {
    dispatcher,
    fetch: (input, init) => fetch(input, { ...(init as object), dispatcher }) as unknown as Promise<Response>,
    close: () => dispatcher.close(),
  }
}
