import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { loopbackTls, trustingFetch } from './loopback-tls'
import { createOidcIssuer, type OidcIssuer } from './oidc-issuer'

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com'

/** Options of {@link startGitHubActionsOidc}. */
export interface GitHubActionsOidcOptions {
  /** The `sub` of issued tokens. Default `repo:contoso/app:ref:refs/heads/main`. */
  subject?: string
  /** Token lifetime in seconds. Default 300 (GitHub's are short-lived). */
  lifetimeSeconds?: number
  /**
   * `http` (default) or `https`, as the real endpoint is: then the server presents the loopback leaf
   * certificate and `certificate` / `fetch` trust its CA, as for the Entra emulator.
   */
  protocol?: 'http' | 'https'
}

/** A running GitHub Actions OIDC token endpoint, as the runner exposes it to a job. */
export interface GitHubActionsOidc {
  /** `ACTIONS_ID_TOKEN_REQUEST_URL` (already has a query string, as GitHub's does). */
  readonly requestUrl: string
  /** `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  readonly requestToken: string
  readonly issuer: OidcIssuer
  /** The subject tokens carry; change it to simulate another branch or environment. */
  subject: string
  /** Audiences asked for, one per request. */
  readonly audiencesRequested: string[]
  /** With `protocol: 'https'`: the CA certificate (PEM) to trust. */
  readonly certificate: string | undefined
  /** A `fetch` that trusts `certificate` (plain `fetch` semantics for `http`). */
  readonly fetch: (input: string, init?: RequestInit) => Promise<Response>
  close(): Promise<void>
}

/**
 * Starts a loopback stand-in for the GitHub Actions ID-token endpoint: `GET {url}&audience=…` with
 * `Authorization: Bearer {request token}` answers `{ "value": "<jwt>" }` signed by a GitHub-like issuer.
 */
export async function startGitHubActionsOidc(options: GitHubActionsOidcOptions = {}): Promise<GitHubActionsOidc> {
  const issuer = await createOidcIssuer(GITHUB_ACTIONS_ISSUER)
  const requestToken = randomBytes(24).toString('base64url')
  const audiencesRequested: string[] = []
  const state = { subject: options.subject ?? 'repo:contoso/app:ref:refs/heads/main' }
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (request.headers.authorization !== `Bearer ${requestToken}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Bad credentials"}')
      return
    }
    const audience = url.searchParams.get('audience') ?? 'https://github.com/contoso'
    audiencesRequested.push(audience)
    const [owner, repository] = state.subject.replace(/^repo:/, '').split(/[/:]/)
    issuer
      .issue({
        subject: state.subject,
        audience,
        lifetimeSeconds: options.lifetimeSeconds ?? 300,
        claims: { repository: `${owner}/${repository}`, repository_owner: owner },
      })
      .then((value) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value })))
      .catch(() => response.writeHead(500).end())
  }
  const protocol = options.protocol ?? 'http'
  const tls = protocol === 'https' ? loopbackTls() : undefined
  const server = tls === undefined ? createHttpServer(listener) : createHttpsServer({ cert: tls.cert, key: tls.key }, listener)
  const client = trustingFetch(tls?.ca)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    requestUrl: `${protocol}://127.0.0.1:${port}/_apis/distributedtask/hubs/build/plans/plan/jobs/job/idtoken?api-version=2.0`,
    requestToken,
    issuer,
    get subject() {
      return state.subject
    },
    set subject(value: string) {
      state.subject = value
    },
    audiencesRequested,
    certificate: tls?.ca,
    fetch: client.fetch,
    async close() {
      await client.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
