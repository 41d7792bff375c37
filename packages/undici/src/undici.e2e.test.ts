import { createServer, type IncomingMessage, type Server } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { inspect } from 'node:util'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azcred/core'
import { AzcredError } from '@azcred/core'
import { AzureKeyCredential, AzureSasCredential } from '@azcred/key-credential'
import { createSharedKeySigner, generateAccountSas } from '@azcred/shared-key'
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, type Azurite, startAzurite } from '@azcred/tooling-azurite'
import { Agent, request, fetch as undiciFetch } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { apiKeyInterceptor, bearerTokenInterceptor, createAuthenticatedFetch, createTransport, sasInterceptor, sharedKeyInterceptor } from './index'

const CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1795300000"}}}'
const CHALLENGE = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${btoa(CLAIMS)}"`

/** A test double for a credential: records each call; tokens name the claims they were asked with. */
function recordingCredential(fail = false): TokenCredential & { calls: GetTokenOptions[] } {
  const calls: GetTokenOptions[] = []
  return {
    calls,
    async getToken(_scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
      calls.push(options)
      if (fail) throw new AzcredError('AZCRED_TOKEN_REQUEST_FAILED', 'the test credential refuses')
      return { token: options.claims === undefined ? 'plain-token' : 'token-with-claims', expiresOnTimestamp: Date.now() + 3_600_000 }
    },
  }
}

/** A resource server: 401 + claims challenge unless the token carries the claims. */
let resource: Server
let resourceUrl: string
const seen: IncomingMessage['headers'][] = []
beforeAll(async () => {
  resource = createServer((incoming, response) => {
    seen.push(incoming.headers)
    incoming.resume()
    incoming.on('end', () => {
      if (incoming.headers.authorization === 'Bearer plain-token') {
        response.writeHead(401, { 'www-authenticate': CHALLENGE, 'content-type': 'text/plain' })
        response.end('claims required')
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ authorization: incoming.headers.authorization ?? null, apiKey: incoming.headers['ocp-apim-subscription-key'] ?? null }))
    })
  })
  await new Promise<void>((resolve) => resource.listen(0, '127.0.0.1', resolve))
  resourceUrl = `http://127.0.0.1:${(resource.address() as AddressInfo).port}/data`
})
afterAll(async () => {
  resource.closeAllConnections()
  await new Promise<void>((resolve) => resource.close(() => resolve()))
})
afterEach(() => {
  seen.length = 0
  vi.unstubAllEnvs()
})

describe('bearerTokenInterceptor', () => {
  it('adds the token, answers a claims challenge once with the decoded claims, and returns the retried answer', async () => {
    const credential = recordingCredential()
    const agent = new Agent().compose(bearerTokenInterceptor({ credential, scopes: 'api://resource/.default' }))
    try {
      const response = await request(resourceUrl, { dispatcher: agent })
      expect(response.statusCode).toBe(200)
      expect(await response.body.json()).toMatchObject({ authorization: 'Bearer token-with-claims' })
      expect(credential.calls).toEqual([{}, { claims: CLAIMS }])
      // undici's fetch hands bodies over as streams, so only body-less requests are retried there;
      // createAuthenticatedFetch covers fetch with bodies.
      const viaFetch = await undiciFetch(resourceUrl, { dispatcher: agent })
      expect(viaFetch.status).toBe(200)
      expect(credential.calls).toHaveLength(4)
    } finally {
      await agent.close()
    }
  })

  it('passes the 401 through when the body cannot be replayed', async () => {
    const credential = recordingCredential()
    const agent = new Agent().compose(bearerTokenInterceptor({ credential, scopes: 'api://resource/.default' }))
    try {
      const response = await request(resourceUrl, { dispatcher: agent, method: 'POST', body: Readable.from(['streamed']) })
      expect(response.statusCode).toBe(401)
      expect(await response.body.text()).toBe('claims required')
      expect(credential.calls).toHaveLength(1)
    } finally {
      await agent.close()
    }
  })

  it("fails the request with the credential's error, sending nothing", async () => {
    const agent = new Agent().compose(bearerTokenInterceptor({ credential: recordingCredential(true), scopes: 'api://resource/.default' }))
    try {
      await expect(request(resourceUrl, { dispatcher: agent })).rejects.toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED' })
      expect(seen).toHaveLength(0)
    } finally {
      await agent.close()
    }
  })
})

describe('createAuthenticatedFetch', () => {
  it('retries once with the claims of a challenge', async () => {
    const credential = recordingCredential()
    const authenticated = createAuthenticatedFetch({ credential, scopes: 'api://resource/.default' })
    const response = await authenticated(resourceUrl, { method: 'POST', body: '{"a":1}' })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ authorization: 'Bearer token-with-claims' })
    expect(credential.calls).toEqual([{}, { claims: CLAIMS }])
  })
})

describe('tokens that must not go into Authorization: Bearer', () => {
  const PLANTED = 'planted.token.a1b2c3'
  /** A credential that answers every call with `answer`. */
  const answering = (answer: unknown): TokenCredential => ({ getToken: async () => answer as AccessToken })
  const token = (value: string, tokenType?: string) => ({
    token: value,
    expiresOnTimestamp: Date.now() + 3_600_000,
    ...(tokenType === undefined ? {} : { tokenType }),
  })
  const shown = (error: unknown): string =>
    [String(error), (error as Error)?.stack, JSON.stringify(error), inspect(error, { depth: 5, showHidden: true })].join('\n')

  /** Sends one request through the interceptor and one through createAuthenticatedFetch; both errors. */
  async function bothRefuse(credential: TokenCredential): Promise<unknown[]> {
    const errors: unknown[] = []
    const agent = new Agent().compose(bearerTokenInterceptor({ credential, scopes: 'api://resource/.default' }))
    try {
      errors.push(
        await request(resourceUrl, { dispatcher: agent }).then(
          () => expect.unreachable('sent'),
          (error: unknown) => error,
        ),
      )
    } finally {
      await agent.close()
    }
    const authenticated = createAuthenticatedFetch({ credential, scopes: 'api://resource/.default' })
    errors.push(
      await authenticated(resourceUrl, {}).then(
        () => expect.unreachable('sent'),
        (error: unknown) => error,
      ),
    )
    expect(seen).toHaveLength(0) // nothing reached the server
    return errors
  }

  it('a null answer is an AzcredError, not a plain Error', async () => {
    for (const answer of [null, undefined, {}, { token: 42 }]) {
      for (const error of await bothRefuse(answering(answer))) {
        expect(AzcredError.isInstance(error)).toBe(true)
        expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringContaining('the credential returned no access token') })
      }
    }
  })

  it("a token whose tokenType is not Bearer (such as 'pop') is refused, never sent as Bearer", async () => {
    for (const tokenType of ['pop', 'PoP', 'mac', '']) {
      for (const error of await bothRefuse(answering(token(PLANTED, tokenType)))) {
        expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringContaining('not a Bearer token (tokenType)') })
        expect(shown(error)).not.toContain(PLANTED)
      }
    }
  })

  it('a token with a line break, space, control or non-ASCII character is refused without echoing it', async () => {
    for (const bad of [
      `${PLANTED}\r\nx-injected: 1`,
      `${PLANTED}\n`,
      `\r${PLANTED}`,
      `${PLANTED}\0`,
      `${PLANTED} more`,
      `${PLANTED}\t`,
      `${PLANTED}\x7f`,
      `${PLANTED}é`,
      '',
    ]) {
      for (const error of await bothRefuse(answering(token(bad)))) {
        expect(error).toMatchObject({ code: 'AZCRED_RESPONSE_INVALID', message: expect.stringContaining('an access token with a line break') })
        expect(shown(error)).not.toContain(PLANTED)
      }
    }
  })

  it('sends a token typed Bearer in any case, or untyped, as Bearer', async () => {
    for (const tokenType of [undefined, 'Bearer', 'bearer', 'BEARER']) {
      const agent = new Agent().compose(bearerTokenInterceptor({ credential: answering(token('typed-token', tokenType)), scopes: 'api://resource/.default' }))
      try {
        const response = await request(resourceUrl, { dispatcher: agent })
        expect(await response.body.json()).toMatchObject({ authorization: 'Bearer typed-token' })
      } finally {
        await agent.close()
      }
      const viaFetch = await createAuthenticatedFetch({ credential: answering(token('typed-token', tokenType)), scopes: 'api://resource/.default' })(
        resourceUrl,
        {},
      )
      expect(await viaFetch.json()).toMatchObject({ authorization: 'Bearer typed-token' })
    }
  })
})

describe('apiKeyInterceptor', () => {
  it('sends the key in its header and sees a rotation on the next request', async () => {
    const key = new AzureKeyCredential('first-key', { header: 'Ocp-Apim-Subscription-Key' })
    const agent = new Agent().compose(apiKeyInterceptor({ credential: key }))
    try {
      expect(await (await request(resourceUrl, { dispatcher: agent })).body.json()).toMatchObject({ apiKey: 'first-key' })
      key.update('second-key')
      expect(await (await request(resourceUrl, { dispatcher: agent })).body.json()).toMatchObject({ apiKey: 'second-key' })
    } finally {
      await agent.close()
    }
  })
})

describe('Shared Key and SAS interceptors against Azurite', () => {
  let azurite: Azurite
  beforeAll(async () => {
    azurite = await startAzurite()
  }, 60_000)
  afterAll(async () => {
    await azurite?.close()
  })

  it('signs container creation, upload and listing with Shared Key; a SAS reads the blob', async () => {
    const signer = createSharedKeySigner({ accountName: AZURITE_ACCOUNT, accountKey: AZURITE_ACCOUNT_KEY })
    const agent = new Agent().compose(sharedKeyInterceptor({ signer }))
    const headers = { 'x-ms-version': '2025-01-05' }
    const container = `undici${Date.now()}`
    try {
      expect((await request(`${azurite.blob}/${container}?restype=container`, { method: 'PUT', headers, dispatcher: agent })).statusCode).toBe(201)
      const put = await request(`${azurite.blob}/${container}/hello%20world.txt`, {
        method: 'PUT',
        headers: { ...headers, 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain' },
        body: 'hello',
        dispatcher: agent,
      })
      expect(put.statusCode).toBe(201)
      const listed = await request(`${azurite.blob}/${container}?restype=container&comp=list`, { headers, dispatcher: agent })
      expect(listed.statusCode).toBe(200)
      expect(await listed.body.text()).toContain('<Name>hello world.txt</Name>')
    } finally {
      await agent.close()
    }
    const sas = new AzureSasCredential(
      await generateAccountSas(signer, { services: 'b', resourceTypes: 'o', permissions: 'r', expiresOn: new Date(Date.now() + 600_000) }),
    )
    const sasAgent = new Agent().compose(sasInterceptor({ credential: sas }))
    try {
      const got = await request(`${azurite.blob}/${container}/hello%20world.txt`, { headers, dispatcher: sasAgent })
      expect(got.statusCode).toBe(200)
      expect(await got.body.text()).toBe('hello')
    } finally {
      await sasAgent.close()
    }
  })
})

describe('createTransport', () => {
  it('goes through HTTP_PROXY from the environment, and direct for NO_PROXY hosts', async () => {
    const proxied: string[] = []
    const proxy = createServer((incoming, response) => {
      proxied.push(incoming.url ?? '')
      response.writeHead(200, { 'content-type': 'text/plain' })
      response.end('a proxy that is asked directly')
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const target = resourceUrl
    // undici tunnels through the proxy with CONNECT: record the tunnel, then connect it to the target.
    const tunnels: Socket[] = []
    proxy.on('connect', (incoming: IncomingMessage, client: Socket, head: Buffer) => {
      proxied.push(incoming.url ?? '')
      tunnels.push(client)
      const [host, port] = (incoming.url ?? '').split(':')
      const upstream = connect(Number(port), host as string, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    try {
      vi.stubEnv('HTTP_PROXY', proxyUrl)
      vi.stubEnv('http_proxy', proxyUrl)
      vi.stubEnv('NO_PROXY', '')
      vi.stubEnv('no_proxy', '')
      const viaProxy = createTransport()
      const answer = await viaProxy.fetch(target, {})
      expect(answer.status).toBe(200) // the resource server, reached through the proxy's tunnel
      await answer.text()
      expect(proxied).toEqual([new URL(target).host])
      await viaProxy.close()
      vi.stubEnv('NO_PROXY', '127.0.0.1')
      vi.stubEnv('no_proxy', '127.0.0.1')
      const direct = createTransport()
      expect((await direct.fetch(target, {})).status).toBe(200)
      expect(proxied).toHaveLength(1)
      await direct.close()
    } finally {
      for (const tunnel of tunnels) tunnel.destroy()
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})
