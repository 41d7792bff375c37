import { Agent as HttpsAgent } from 'node:https'
import { isIP, type Socket } from 'node:net'
import { connect } from 'node:tls'
import { AzcredError, type FetchLike, readEnv } from '@azcred/core'
import { ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER } from './managed-identity-app-service'
import { createDirectFetch } from './managed-identity-direct-fetch'
import { ENV_IDENTITY_SERVER_THUMBPRINT } from './managed-identity-hosts'
import {
  endpointFromEnv,
  identityParameter,
  type ManagedIdentityHost,
  type ManagedIdentityHostFactory,
  requestManagedIdentityToken,
  withQuery,
} from './managed-identity-request'

export { ENV_IDENTITY_SERVER_THUMBPRINT } from './managed-identity-hosts'

const PIN_MISMATCH = Symbol('azcred.pin-mismatch')

function normalizeThumbprint(value: string): string {
  return value.replace(/[\s:]/g, '').toUpperCase()
}

/**
 * A direct `fetch` whose TLS connections are trusted by certificate pinning instead of a CA chain:
 * the handshake must present a certificate whose SHA-1 (or SHA-256) thumbprint is `thumbprint`, or
 * the socket is closed before a byte of the request is written. Built on node:https (no undici).
 */
export function createPinnedFetch(thumbprint: string): FetchLike {
  const expected = normalizeThumbprint(thumbprint)
  const agent = new HttpsAgent({ keepAlive: true })
  // The agent waits for the callback before writing: the pin is checked first. The request's signal
  // (its timeout or abort, from createDirectFetch) ends a handshake that never completes.
  agent.createConnection = (options, callback): undefined => {
    const hostname = String(options.host ?? 'localhost')
    const signal = (options as { abortSignal?: AbortSignal }).abortSignal
    // The chain is self-signed by design; the pin below is the check that replaces it.
    const socket = connect({
      host: hostname,
      port: Number(options.port) || 443,
      servername: isIP(hostname) === 0 ? hostname : undefined,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    })
    let settled = false
    const done = (error: Error | null, value?: Socket): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', stop)
      ;(callback as (error: Error | null, socket?: Socket) => void)(error, value)
    }
    const stop = (): void => {
      socket.destroy()
      done(new Error('aborted during the TLS handshake'))
    }
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate()
      const presented = [certificate.fingerprint, certificate.fingerprint256].filter(Boolean).map((value) => normalizeThumbprint(value))
      if (presented.includes(expected)) return done(null, socket)
      socket.destroy()
      done(Object.assign(new Error('certificate thumbprint mismatch'), { [PIN_MISMATCH]: true }))
    })
    socket.once('error', (error) => done(error))
    if (signal?.aborted) stop()
    else signal?.addEventListener('abort', stop, { once: true })
    return undefined
  }
  return createDirectFetch(agent)
}

function isPinMismatch(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    if ((current as Record<symbol, unknown>)[PIN_MISMATCH] === true) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/**
 * Service Fabric: `GET {IDENTITY_ENDPOINT}?api-version=2019-07-01-preview` with `secret`, over HTTPS
 * pinned to `IDENTITY_SERVER_THUMBPRINT`. Always uses its own pinned transport (options.fetch would lose the pin).
 */
export function createServiceFabricHost(endpoint: string, identityHeader: string, thumbprint: string): ManagedIdentityHost {
  const pinnedFetch = createPinnedFetch(thumbprint)
  return {
    name: 'Service Fabric',
    async fetchToken(request) {
      const url = withQuery(endpoint, {
        'api-version': '2019-07-01-preview',
        resource: request.resource,
        ...identityParameter(request.identity, ['client_id', 'object_id', 'mi_res_id']),
      })
      try {
        return await requestManagedIdentityToken('Service Fabric', { url, headers: { secret: identityHeader } }, { ...request, fetch: pinnedFetch })
      } catch (error) {
        if (!isPinMismatch(error)) throw error
        throw new AzcredError(
          'AZCRED_CONFIG_INVALID',
          `the Service Fabric managed identity endpoint presented a certificate whose thumbprint is not ${ENV_IDENTITY_SERVER_THUMBPRINT}: refused, nothing was sent; check the variable or the endpoint`,
        )
      }
    },
  }
}

/** Service Fabric's factory for the host table (Node build), from the variables the platform sets. */
export const createServiceFabricHostFromEnv: ManagedIdentityHostFactory = () =>
  createServiceFabricHost(endpointFromEnv(ENV_IDENTITY_ENDPOINT), readEnv(ENV_IDENTITY_HEADER) as string, readEnv(ENV_IDENTITY_SERVER_THUMBPRINT) as string)
