import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOidcIssuer, type OidcIssuer } from './oidc-issuer'

export const COGNITO_ISSUER = 'https://cognito-identity.amazonaws.com'

/** An identity pool in the emulated Cognito Identity service. */
export interface EmulatedIdentityPool {
  identityPoolId: string
  /** Allow `GetId`/`GetOpenIdToken` without `Logins`. Default true. */
  allowUnauthenticated?: boolean
  /** The developer provider name accepted by `GetOpenIdTokenForDeveloperIdentity`. */
  developerProviderName?: string
}

/** A running Cognito Identity stand-in on loopback. */
export interface CognitoIdentityEmulator {
  /** Pass as `endpoint` to the AWS SDK's `CognitoIdentityClient`. */
  readonly endpoint: string
  readonly region: string
  readonly issuer: OidcIssuer
  /** Operations received, in order (`GetId`, `GetOpenIdToken`, …), with whether they were SigV4-signed. */
  readonly calls: { operation: string; signed: boolean }[]
  addPool(pool: EmulatedIdentityPool): void
  close(): Promise<void>
}

type Handler = (input: Record<string, unknown>, signed: boolean) => Promise<Record<string, unknown>>

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Starts a loopback server speaking the Cognito Identity wire protocol (AWS JSON 1.1,
 * `X-Amz-Target: AWSCognitoIdentityService.<Operation>`), so the real AWS SDK client can be used
 * against it: `GetId`, `GetOpenIdToken` (10-minute tokens, `aud` = pool id, `sub` = identity id),
 * and the SigV4-signed `GetOpenIdTokenForDeveloperIdentity`.
 */
export async function startCognitoIdentity(region = 'us-east-1'): Promise<CognitoIdentityEmulator> {
  const issuer = await createOidcIssuer(COGNITO_ISSUER)
  const pools = new Map<string, EmulatedIdentityPool>()
  const identities = new Map<string, string>() // identity id -> pool id
  const byLogin = new Map<string, string>() // pool|provider|login -> identity id
  const calls: { operation: string; signed: boolean }[] = []

  const poolOf = (identityPoolId: unknown): EmulatedIdentityPool => {
    const pool = pools.get(String(identityPoolId))
    if (pool === undefined) throw new AwsError('ResourceNotFoundException', `IdentityPool '${String(identityPoolId)}' not found.`)
    return pool
  }
  const identityFor = (pool: EmulatedIdentityPool, logins: Record<string, string> | undefined): string => {
    const login = logins === undefined ? undefined : Object.entries(logins).sort().join('|')
    if (login === undefined && pool.allowUnauthenticated === false)
      throw new AwsError('NotAuthorizedException', 'Unauthenticated access is not supported for this identity pool.')
    const key = login === undefined ? undefined : `${pool.identityPoolId}|${login}`
    const known = key === undefined ? undefined : byLogin.get(key)
    if (known !== undefined) return known
    const identityId = `${region}:${randomUUID()}`
    identities.set(identityId, pool.identityPoolId)
    if (key !== undefined) byLogin.set(key, identityId)
    return identityId
  }
  const openIdToken = async (identityId: string, lifetimeSeconds = 600) => {
    const poolId = identities.get(identityId)
    if (poolId === undefined) throw new AwsError('ResourceNotFoundException', `Identity '${identityId}' not found.`)
    return issuer.issue({ subject: identityId, audience: poolId, lifetimeSeconds, claims: { amr: ['unauthenticated'] } })
  }

  const handlers: Record<string, Handler> = {
    async GetId(input) {
      return { IdentityId: identityFor(poolOf(input.IdentityPoolId), input.Logins as Record<string, string> | undefined) }
    },
    async GetOpenIdToken(input) {
      const identityId = String(input.IdentityId)
      return { IdentityId: identityId, Token: await openIdToken(identityId) }
    },
    async GetOpenIdTokenForDeveloperIdentity(input, signed) {
      if (!signed) throw new AwsError('MissingAuthenticationTokenException', 'Request is missing Authentication Token')
      const pool = poolOf(input.IdentityPoolId)
      const logins = (input.Logins ?? {}) as Record<string, string>
      if (pool.developerProviderName === undefined || logins[pool.developerProviderName] === undefined) {
        throw new AwsError('NotAuthorizedException', 'Logins must name the developer provider of this identity pool.')
      }
      const identityId = identityFor(pool, { [pool.developerProviderName]: logins[pool.developerProviderName] as string })
      const duration = typeof input.TokenDuration === 'number' ? input.TokenDuration : 900
      return { IdentityId: identityId, Token: await openIdToken(identityId, duration) }
    },
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '')
      const operation = target.replace(/^AWSCognitoIdentityService\./, '')
      const signed = String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')
      calls.push({ operation, signed })
      const reply = (status: number, body: Record<string, unknown>, errorType?: string) => {
        const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() }
        if (errorType !== undefined) headers['x-amzn-errortype'] = errorType
        response.writeHead(status, headers).end(JSON.stringify(body))
      }
      const handler = request.method === 'POST' && target.startsWith('AWSCognitoIdentityService.') ? handlers[operation] : undefined
      if (handler === undefined) {
        reply(400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` }, 'UnknownOperationException')
        return
      }
      let input: Record<string, unknown>
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>
      } catch {
        reply(400, { __type: 'SerializationException', message: 'Malformed JSON' }, 'SerializationException')
        return
      }
      handler(input, signed).then(
        (output) => reply(200, output),
        (error: unknown) => {
          const type = error instanceof AwsError ? error.type : 'InternalErrorException'
          reply(error instanceof AwsError ? 400 : 500, { __type: type, message: (error as Error).message }, type)
        },
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    issuer,
    calls,
    addPool: (pool) => {
      pools.set(pool.identityPoolId, { allowUnauthenticated: true, ...pool })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
