// An https server on 127.0.0.1 with the emulator's loopback leaf (trusted through NODE_EXTRA_CA_CERTS),
// for the stand-ins of services that have no local emulator (Key Vault, AI Search).
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

const certs = fileURLToPath(new URL('../../entra-emulator/certs/', import.meta.url))

export interface LoopbackHttps {
  url: string
  close(): Promise<void>
}

export async function startLoopbackHttps(handler: (request: IncomingMessage, body: string, response: ServerResponse) => void): Promise<LoopbackHttps> {
  const server: Server = createServer({ cert: readFileSync(`${certs}loopback.crt`), key: readFileSync(`${certs}loopback.key`) }, (request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      if (body.length < 1_000_000) body += chunk
    })
    request.on('end', () => handler(request, body, response))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  response.end(JSON.stringify(body))
}

/** The payload of a JWT, unverified (the stand-ins check `aud`; the emulator's own tests check signatures). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? ''
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>
}
