import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AbortSignalLike, AzcredError, TokenRequestError } from '@azcred/core'

/** The default page texts (HTML-escaped before use). */
const DEFAULT_SUCCESS = 'Authentication complete. You can close this window and return to the application.'
const DEFAULT_ERROR = 'Authentication failed. You can close this window and return to the application.'

/** A redirect URI of the loopback listener, checked and split into what `listen` needs. */
export interface LoopbackRedirect {
  /** `localhost`, `127.0.0.1` or `[::1]`, as written (sent to Entra as written). */
  hostname: string
  /** The interface bound: 127.0.0.1 or ::1 (loopback only, never 0.0.0.0); for `localhost` ::1 is held on the same port too. */
  bindAddress: string
  /** The port asked for; 0 = a random free one. */
  port: number
  /** The path the redirect must arrive on, such as `/` or `/reply`. */
  pathname: string
  /** The path as written in the redirect URI: '' for `http://localhost[:port]` (sent without a slash, as MSAL does). */
  pathText: string
}

/**
 * Checks a redirect URI for the loopback listener: `http://localhost[:port][/path]` (or 127.0.0.1, [::1]),
 * no query, fragment or credentials (RFC 8252 §7.3).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming what is wrong.
 */
export function parseLoopbackRedirectUri(redirectUri: string): LoopbackRedirect {
  let url: URL
  try {
    url = new URL(redirectUri)
  } catch {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'redirectUri is not a URL: use http://localhost or http://localhost:<port>/<path>')
  }
  const hostname = url.hostname.toLowerCase()
  const bindAddress = hostname === 'localhost' || hostname === '127.0.0.1' ? '127.0.0.1' : hostname === '[::1]' ? '::1' : undefined
  if (url.protocol !== 'http:' || bindAddress === undefined) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      'redirectUri must be an http loopback URI (http://localhost, http://127.0.0.1 or http://[::1], optionally with a port and path): the browser sign-in listens on this machine only',
    )
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'redirectUri must have no query, fragment or user info: use http://localhost[:port][/path]')
  }
  const pathText = /^http:\/\/[^/]+$/i.test(redirectUri.trim()) ? '' : url.pathname
  return { hostname, bindAddress, port: url.port === '' ? 0 : Number(url.port), pathname: url.pathname || '/', pathText }
}

/** The page texts of {@link RedirectListener}. */
export interface RedirectPages {
  successMessage?: string | undefined
  errorMessage?: string | undefined
}

/** What the listener accepted: the code of the one redirect whose `state` matched. */
export interface AcceptedRedirect {
  code: string
}

/**
 * The loopback listener of one browser sign-in. It is bound to a loopback interface only, accepts
 * exactly one redirect (on its path, with the expected `state` and a `code` or an `error`), answers a
 * clear page to anything else and keeps waiting, and is closed on every outcome (success, error,
 * time limit, abort): {@link RedirectListener.closed} settles when no socket is left.
 */
export class RedirectListener {
  readonly #server: Server
  /** The same port on ::1, for a `localhost` redirect URI (undefined without IPv6, or for 127.0.0.1 / [::1]). */
  readonly #v6: Server | undefined
  readonly #redirect: LoopbackRedirect
  readonly #pages: RedirectPages
  #state = ''
  #settle: ((outcome: { code: string } | { error: unknown }) => void) | undefined
  #closed: Promise<void> | undefined
  readonly #port: number

  private constructor(server: Server, v6: Server | undefined, redirect: LoopbackRedirect, pages: RedirectPages, port: number) {
    this.#server = server
    this.#v6 = v6
    this.#port = port
    this.#redirect = redirect
    this.#pages = pages
  }

  /**
   * Starts listening on the redirect URI's loopback address and port (a random free port when none).
   * @throws AzcredError AZCRED_CONFIG_INVALID when the port is already in use (naming it) or cannot be bound.
   */
  static async start(redirect: LoopbackRedirect, pages: RedirectPages = {}): Promise<RedirectListener> {
    // With `localhost` a browser may connect to ::1 first: the port is held there too, so that no other local
    // program can listen on [::1]:<port> and receive the redirect (and show its own page). A random port that is
    // taken on ::1 is chosen again; without IPv6 on this machine, 127.0.0.1 alone is enough.
    for (let attempt = 1; ; attempt++) {
      const server = createServer()
      const failed = await bind(server, redirect.bindAddress, redirect.port)
      if (failed !== undefined) throw bindError(failed, redirect.bindAddress, redirect.port)
      const port = (server.address() as AddressInfo).port
      let v6: Server | undefined
      if (redirect.hostname === 'localhost') {
        v6 = createServer()
        const failedV6 = await bind(v6, '::1', port)
        if (failedV6 !== undefined) {
          v6 = undefined
          if (failedV6.code !== 'EADDRNOTAVAIL' && failedV6.code !== 'EAFNOSUPPORT') {
            await new Promise((resolve) => server.close(resolve))
            if (failedV6.code === 'EADDRINUSE' && redirect.port === 0 && attempt < 5) continue
            throw bindError(failedV6, '::1', port)
          }
        }
      }
      const listener = new RedirectListener(server, v6, redirect, pages, port)
      for (const each of [server, v6]) {
        each?.on('request', (request, response) => listener.#handle(request, response))
        each?.on('error', () => {}) // after listen: errors end in close()
      }
      return listener
    }
  }

  /** The redirect URI to send to Entra: as configured, with the port actually bound. */
  get redirectUri(): string {
    const { port } = this.#server.address() as AddressInfo
    return `http://${this.#redirect.hostname}:${port}${this.#redirect.pathText}`
  }

  /** The interface address bound (127.0.0.1 or ::1). */
  get boundAddress(): string {
    return (this.#server.address() as AddressInfo).address
  }

  /** True while the listener holds its port. */
  get listening(): boolean {
    return this.#server.listening || this.#v6?.listening === true
  }

  /**
   * Waits for the one redirect whose `state` equals `state`, at most `timeoutMs`, and closes the
   * listener whatever the outcome.
   * @throws AzcredError AZCRED_AUTHENTICATION_CANCELLED (the user cancelled: `error=access_denied`),
   * AZCRED_TOKEN_REQUEST_FAILED (another `error` from Entra, with its description and AADSTS code),
   * AZCRED_TIMEOUT, AZCRED_ABORTED (the signal fired).
   */
  async wait(state: string, timeoutMs: number, signal: AbortSignalLike | undefined): Promise<AcceptedRedirect> {
    this.#state = state
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    try {
      return await new Promise<AcceptedRedirect>((resolve, reject) => {
        this.#settle = (outcome) => {
          this.#settle = undefined
          if ('code' in outcome) resolve(outcome)
          else reject(outcome.error)
        }
        timer = setTimeout(
          () =>
            this.#settle?.({
              error: new AzcredError(
                'AZCRED_TIMEOUT',
                `the browser sign-in did not complete within ${Math.round(timeoutMs / 1000)} s (signInTimeoutMs): sign in again`,
              ),
            }),
          timeoutMs,
        )
        onAbort = () => this.#settle?.({ error: new AzcredError('AZCRED_ABORTED', 'the browser sign-in was aborted (abortSignal)') })
        if (signal?.aborted) onAbort()
        else signal?.addEventListener('abort', onAbort)
      })
    } finally {
      clearTimeout(timer)
      if (onAbort) signal?.removeEventListener('abort', onAbort)
      await this.close()
    }
  }

  /** Stops listening and ends every connection; resolves when the port is free. Safe to call twice. */
  close(): Promise<void> {
    this.#settle?.({ error: new AzcredError('AZCRED_ABORTED', 'the browser sign-in listener was closed') })
    this.#closed ??= Promise.all(
      [this.#server, this.#v6].map(
        (server) =>
          new Promise<void>((resolve) => {
            if (server === undefined) return resolve()
            server.close(() => resolve())
            // Let the last page reach the browser, then end every kept-alive socket.
            setImmediate(() => server.closeAllConnections())
          }),
      ),
    ).then(() => undefined)
    return this.#closed
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const [status, title, message, outcome] = this.#answer(request)
    page(response, status, title, message)
    if (outcome !== undefined) this.#settle?.(outcome)
  }

  /** True for a Host header naming this listener: `localhost`, `127.0.0.1` or `[::1]` with the bound port. */
  #loopbackHost(host: string | undefined): boolean {
    // The port as bound (address() is null once closed; a request may still be read then).
    const port = this.#port
    const name = host?.toLowerCase()
    // Port 80 is the one a browser leaves out of Host.
    return ['localhost', '127.0.0.1', '[::1]'].some((loopback) => name === `${loopback}:${port}` || (port === 80 && name === loopback))
  }

  /** The page for a request, and the sign-in's outcome when it is the one matching redirect. */
  #answer(request: IncomingMessage): [number, string, string, ({ code: string } | { error: unknown })?] {
    // A request target that is not a URL (`GET http://[`, sent by any local process) is refused, never a
    // TypeError thrown out of the 'request' event (that would end the application's process).
    const url = URL.canParse(request.url ?? '/', 'http://localhost') ? new URL(request.url ?? '/', 'http://localhost') : undefined
    if (url === undefined) return [400, 'Bad request', 'This address only receives the sign-in redirect.']
    // DNS rebinding: a web page whose name now resolves to 127.0.0.1 sends its own Host; the browser's redirect
    // names this listener (localhost, 127.0.0.1 or [::1] with its port).
    if (!this.#loopbackHost(request.headers.host)) return [421, 'Misdirected request', 'This address only receives the sign-in redirect.']
    if (request.method !== 'GET' || url.pathname !== this.#redirect.pathname) {
      return [404, 'Not found', 'This address only receives the sign-in redirect.']
    }
    const query = url.searchParams
    const state = query.get('state')
    if (this.#settle === undefined || state === null || !sameText(state, this.#state)) {
      // A redirect of another sign-in (or a forged one): never redeemed, the sign-in in progress goes on.
      return [
        400,
        'Sign-in response refused',
        'This sign-in response does not belong to the sign-in in progress on this computer (its state does not match), so it was ignored. Return to the application and sign in again if needed.',
      ]
    }
    const error = query.get('error')
    const code = query.get('code')
    const failed = this.#pages.errorMessage ?? DEFAULT_ERROR
    if (error !== null) {
      const description = clean(query.get('error_description') ?? '')
      return [200, 'Sign-in failed', `${failed} ${clean(error).slice(0, 64)}: ${description}`, { error: authorizeError(error, description) }]
    }
    if (code === null || code === '') {
      const invalid = new AzcredError('AZCRED_RESPONSE_INVALID', 'the sign-in redirect carried neither a code nor an error: sign in again')
      return [400, 'Sign-in failed', `${failed} The response carried no authorization code.`, { error: invalid }]
    }
    return [200, 'Signed in', this.#pages.successMessage ?? DEFAULT_SUCCESS, { code }]
  }
}

/** Listens on host:port; resolves with the error when that fails. */
function bind(server: Server, host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    server.once('error', resolve)
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', resolve)
      resolve(undefined)
    })
  })
}

function bindError(error: NodeJS.ErrnoException, host: string, port: number): AzcredError {
  const where = `${host === '::1' ? '[::1]' : host}:${port}`
  return new AzcredError(
    'AZCRED_CONFIG_INVALID',
    error.code === 'EADDRINUSE'
      ? `redirectUri port ${port} is already in use on ${where}: close the program listening there, or use another port in redirectUri (registered on the app), or http://localhost for a random free port`
      : `cannot listen for the sign-in redirect on ${where} (${error.code ?? 'error'}): use another port in redirectUri, or http://localhost for a random free port`,
  )
}

/** Entra's `error` on the redirect as an AzcredError: `access_denied` (the user cancelled or declined) → AZCRED_AUTHENTICATION_CANCELLED. */
function authorizeError(error: string, description: string): AzcredError | TokenRequestError {
  const oauthError = clean(error).slice(0, 64)
  if (oauthError === 'access_denied') {
    return new AzcredError('AZCRED_AUTHENTICATION_CANCELLED', `the user cancelled the browser sign-in or declined consent (${description || 'access_denied'})`)
  }
  const codes = [...description.matchAll(/AADSTS(\d{4,9})/g)].map((match) => Number(match[1]))
  return new TokenRequestError(`the browser sign-in failed: ${oauthError}: ${description}`, {
    status: 400,
    error: oauthError,
    errorCodes: codes.slice(0, 1),
  })
}

/** Printable text, at most 500 characters: what a redirect parameter may put in a message or page. */
function clean(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 500)
}

function sameText(left: string, right: string): boolean {
  const a = Buffer.from(left)
  const b = Buffer.from(right)
  return right !== '' && a.length === b.length && timingSafeEqual(a, b)
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

function page(response: ServerResponse, status: number, title: string, message: string): void {
  const body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(message)}</p></body></html>`
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The code is in this page's URL: no referrer, no script, no framing.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    connection: 'close',
  })
  response.end(body)
}
