// The loopback listener on its own: loopback-only binding, exactly one matching redirect, clear pages
// for everything else, closed (no listening socket) after every outcome, a port in use named.
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { isListening } from './__fixtures__/is-listening'
import { parseLoopbackRedirectUri, RedirectListener } from './redirect-listener'

const started: RedirectListener[] = []
async function start(uri = 'http://localhost', pages = {}): Promise<{ listener: RedirectListener; port: number }> {
  const listener = await RedirectListener.start(parseLoopbackRedirectUri(uri), pages)
  started.push(listener)
  return { listener, port: Number(new URL(listener.redirectUri).port) }
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((listener) => listener.close()))
})

/** Observes a wait at once (no unhandled rejection while the test sends requests); await it for the outcome. */
function observe<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {})
  return promise
}

const get = async (port: number, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: response.status, text: await response.text(), headers: response.headers }
}

/** Sends raw bytes and returns the status line of the answer ('' when none came within 2 s or the socket closed first). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = ''
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text))
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer.split('\r\n')[0] ?? '')
    }
    const timer = setTimeout(done, 2_000)
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
    })
    socket.on('close', done)
    socket.on('error', done)
  })
}

describe('parseLoopbackRedirectUri', () => {
  it('accepts http loopback URIs, with or without a port and path', () => {
    expect(parseLoopbackRedirectUri('http://localhost')).toEqual({ hostname: 'localhost', bindAddress: '127.0.0.1', port: 0, pathname: '/', pathText: '' })
    expect(parseLoopbackRedirectUri('http://localhost:44300/reply')).toEqual({
      hostname: 'localhost',
      bindAddress: '127.0.0.1',
      port: 44300,
      pathname: '/reply',
      pathText: '/reply',
    })
    expect(parseLoopbackRedirectUri('http://[::1]:8400/')).toMatchObject({ bindAddress: '::1', port: 8400 })
  })

  it.each([
    'https://localhost',
    'http://example.com/reply',
    'http://0.0.0.0:8080',
    'http://192.168.1.2',
    'http://localhost/?x=1',
    'http://localhost/#f',
    'http://u:p@localhost',
    'not a url',
  ])('refuses %s with AZCRED_CONFIG_INVALID', (uri) => {
    expect(() => parseLoopbackRedirectUri(uri)).toThrowError(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
  })
})

describe('RedirectListener', () => {
  it('binds the loopback interface only, on a random free port, and reports the redirect URI with it', async () => {
    const { listener, port } = await start()
    expect(listener.redirectUri).toBe(`http://localhost:${port}`) // as written: no slash added (MSAL sends the same)
    expect(port).toBeGreaterThan(0)
    expect(await isListening(port)).toBe(true)
    // Bound to 127.0.0.1 (never 0.0.0.0 / ::, which would accept on every interface of the machine).
    expect(listener.boundAddress).toBe('127.0.0.1')
    const v6 = await start('http://[::1]')
    expect(v6.listener.boundAddress).toBe('::1')
    expect(v6.listener.redirectUri).toBe(`http://[::1]:${v6.port}`)
  })

  it('accepts exactly one redirect with the matching state: success page, code returned, listener closed', async () => {
    const { listener, port } = await start('http://localhost', { successMessage: 'All done <b>here</b>' })
    const waiting = observe(listener.wait('the-state', 10_000, undefined))
    const answer = await get(port, '/?code=the-code&state=the-state')
    expect(answer.status).toBe(200)
    expect(answer.text).toContain('All done &#60;b&#62;here&#60;/b&#62;')
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
    expect(answer.headers.get('cache-control')).toBe('no-store')
    await expect(waiting).resolves.toEqual({ code: 'the-code' })
    expect(listener.listening).toBe(false)
    expect(await isListening(port)).toBe(false)
  })

  it('answers a clear page to a wrong state, a missing state, another path or method, and keeps waiting', async () => {
    const { listener, port } = await start('http://localhost:0/reply')
    const waiting = observe(listener.wait('expected-state', 10_000, undefined))
    const wrong = await get(port, '/reply?code=forged&state=another-sign-in')
    expect(wrong.status).toBe(400)
    expect(wrong.text).toContain('does not belong to the sign-in in progress')
    expect((await get(port, '/reply?code=forged')).status).toBe(400)
    expect((await get(port, '/reply?code=forged&state=')).status).toBe(400)
    expect((await get(port, '/reply?code=forged&state=expected-statX')).status).toBe(400)
    expect((await get(port, '/other?code=x&state=expected-state')).status).toBe(404)
    const post = await fetch(`http://127.0.0.1:${port}/reply?code=x&state=expected-state`, { method: 'POST' })
    expect(post.status).toBe(404)
    expect(listener.listening).toBe(true)
    expect((await get(port, '/reply?code=real&state=expected-state')).status).toBe(200)
    await expect(waiting).resolves.toEqual({ code: 'real' })
    expect(await isListening(port)).toBe(false)
  })

  it('an error from Entra: access_denied is AZCRED_AUTHENTICATION_CANCELLED, another is TokenRequestError with its AADSTS code; page shown, listener closed', async () => {
    const first = await start('http://localhost', { errorMessage: 'Sign-in did not work.' })
    const cancelled = observe(first.listener.wait('s1', 10_000, undefined))
    const page = await get(first.port, '/?error=access_denied&error_subcode=cancel&error_description=AADSTS65004%3A+The+user+cancelled.&state=s1')
    expect(page.text).toContain('Sign-in did not work.')
    expect(page.text).toContain('AADSTS65004')
    await expect(cancelled).rejects.toMatchObject({ code: 'AZCRED_AUTHENTICATION_CANCELLED' })
    expect(await isListening(first.port)).toBe(false)

    const second = await start()
    const failed = observe(second.listener.wait('s2', 10_000, undefined))
    await get(second.port, '/?error=invalid_request&error_description=AADSTS50011%3A+redirect+mismatch%3Cscript%3E&state=s2')
    const error = await failed.catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', error: 'invalid_request', aadstsCode: 'AADSTS50011' })
    expect(await isListening(second.port)).toBe(false)
  })

  it('a matching redirect without a code is AZCRED_RESPONSE_INVALID', async () => {
    const { listener, port } = await start()
    const waiting = observe(listener.wait('s', 10_000, undefined))
    expect((await get(port, '/?state=s')).status).toBe(400)
    await expect(waiting).rejects.toMatchObject({ code: 'AZCRED_RESPONSE_INVALID' })
    expect(await isListening(port)).toBe(false)
  })

  it('time limit: AZCRED_TIMEOUT and the port is free', async () => {
    const { listener, port } = await start()
    const started = Date.now()
    await expect(listener.wait('s', 300, undefined)).rejects.toMatchObject({ code: 'AZCRED_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(await isListening(port)).toBe(false)
  })

  it('abort: AZCRED_ABORTED at once (also for a signal aborted before the wait) and the port is free', async () => {
    const { listener, port } = await start()
    const controller = new AbortController()
    const waiting = observe(listener.wait('s', 60_000, controller.signal))
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(await isListening(port)).toBe(false)

    const again = await start()
    await expect(again.listener.wait('s', 60_000, AbortSignal.abort())).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    expect(await isListening(again.port)).toBe(false)
  })

  it('a kept-alive connection does not keep the listener open', async () => {
    const { listener, port } = await start()
    const waiting = observe(listener.wait('s', 10_000, undefined))
    const idle = connect({ host: '127.0.0.1', port })
    await new Promise((resolve) => idle.once('connect', resolve))
    await get(port, '/?code=c&state=s')
    await waiting
    await new Promise((resolve) => idle.once('close', resolve))
    expect(await isListening(port)).toBe(false)
  }, 10_000)

  it('a request target that is not a URL (GET http://[) is answered 400 and the sign-in goes on (no error thrown out of the listener)', async () => {
    const { listener, port } = await start()
    const waiting = observe(listener.wait('s', 10_000, undefined))
    for (const target of ['http://[', '//[/', 'http://a:b@[::1']) {
      expect(await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).toBe('HTTP/1.1 400 Bad Request')
    }
    expect(listener.listening).toBe(true)
    expect((await get(port, '/?code=c&state=s')).status).toBe(200)
    await expect(waiting).resolves.toEqual({ code: 'c' })
  })

  it('DNS rebinding: a request whose Host is not this loopback listener is refused (421), even with the right state', async () => {
    const { listener, port } = await start()
    const waiting = observe(listener.wait('s', 10_000, undefined))
    for (const host of [`evil.example:${port}`, 'localhost', `localhost:${port + 1}`, `127.0.0.1.evil.example:${port}`]) {
      expect(await rawRequest(port, `GET /?code=stolen&state=s HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toBe('HTTP/1.1 421 Misdirected Request')
    }
    expect(await rawRequest(port, 'GET /?code=stolen&state=s HTTP/1.0\r\n\r\n')).toBe('HTTP/1.1 421 Misdirected Request')
    expect(listener.listening).toBe(true)
    expect(await rawRequest(port, `GET /?code=real&state=s HTTP/1.1\r\nHost: LocalHost:${port}\r\n\r\n`)).toBe('HTTP/1.1 200 OK')
    await expect(waiting).resolves.toEqual({ code: 'real' })
  })

  it('a slowloris socket (headers never finished) does not keep the listener open after the redirect', async () => {
    const { listener, port } = await start()
    const waiting = observe(listener.wait('s', 10_000, undefined))
    const slow = connect({ host: '127.0.0.1', port })
    await new Promise((resolve) => slow.once('connect', resolve))
    slow.write('GET /?state=s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    const closed = new Promise((resolve) => slow.once('close', resolve))
    slow.on('error', () => {})
    await get(port, '/?code=c&state=s')
    await waiting
    await closed
    expect(await isListening(port)).toBe(false)
  }, 10_000)

  it('http://localhost holds its port on ::1 too (a browser may try ::1 first): no other program can take [::1]:<port> and receive the redirect', async () => {
    const { listener, port } = await start('http://localhost/reply')
    const waiting = observe(listener.wait('s', 10_000, undefined))
    expect(await isListening(port, '::1')).toBe(true)
    const squatter: Server = createServer()
    const taken = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      squatter.once('error', resolve)
      squatter.listen({ host: '::1', port, exclusive: true }, () => resolve(undefined))
    })
    if (taken === undefined) await new Promise((resolve) => squatter.close(resolve))
    expect(taken?.code).toBe('EADDRINUSE')
    // The redirect arriving on ::1 is the same listener's.
    const answer = await fetch(`http://[::1]:${port}/reply?code=c&state=s`)
    expect(answer.status).toBe(200)
    await expect(waiting).resolves.toEqual({ code: 'c' })
    expect(await isListening(port, '::1')).toBe(false)
    expect(await isListening(port)).toBe(false)
  })

  it('a fixed localhost port already taken on ::1 by another program: AZCRED_CONFIG_INVALID naming [::1]:<port>, nothing left listening', async () => {
    const squatter: Server = createServer()
    await new Promise<void>((resolve) => squatter.listen({ host: '::1', port: 0, exclusive: true }, resolve))
    const { port } = squatter.address() as { port: number }
    try {
      const error = await RedirectListener.start(parseLoopbackRedirectUri(`http://localhost:${port}/reply`)).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
      expect((error as Error).message).toContain(`port ${port} is already in use on [::1]:${port}`)
      expect(await isListening(port)).toBe(false)
    } finally {
      await new Promise((resolve) => squatter.close(resolve))
    }
  })

  it('a port in use: AZCRED_CONFIG_INVALID naming the port', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    try {
      const error = await RedirectListener.start(parseLoopbackRedirectUri(`http://localhost:${port}/reply`)).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'AZCRED_CONFIG_INVALID' })
      expect((error as Error).message).toContain(`port ${port} is already in use`)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })
})
