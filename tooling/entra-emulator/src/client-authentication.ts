import type { IncomingHttpHeaders } from 'node:http'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, importX509, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose'
import type { Directory, EmulatedApp } from './directory'
import { type EntraErrorAnswer, entraError } from './entra-errors'

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const MAX_FEDERATED_LIFETIME_SECONDS = 25 * 3600 // one day plus one hour

/** Where the emulator checks client credentials. */
export interface ClientAuthenticationContext {
  directory: Directory
  trustedIssuers: Map<string, JSONWebKeySet>
  tenantId: string
  form: URLSearchParams
  headers: IncomingHttpHeaders
  correlationId: string
  /** The token endpoint URLs a certificate assertion's `aud` may name. */
  tokenEndpoints: string[]
}

/**
 * Authenticates the client of a token request: `client_secret` (form or HTTP Basic) or a JWT
 * `client_assertion` checked against the app's federated identity credentials.
 */
export async function authenticateClient(context: ClientAuthenticationContext): Promise<EmulatedApp | EntraErrorAnswer> {
  const { form, correlationId } = context
  let clientId = form.get('client_id')
  let secret = form.get('client_secret')
  const authorization = context.headers.authorization
  if (authorization?.startsWith('Basic ')) {
    const [basicId, basicSecret] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':')
    clientId = decodeURIComponent(basicId ?? '')
    secret = decodeURIComponent(basicSecret ?? '')
  }
  if (clientId === null || clientId === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.", correlationId)
  }
  const app = context.directory.findApp(context.tenantId, clientId)
  if (app === undefined) {
    return entraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${context.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
      correlationId,
    )
  }
  const assertion = form.get('client_assertion')
  if (assertion !== null && assertion !== '') {
    if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION) {
      return entraError(
        400,
        'invalid_request',
        900144,
        `The request body must contain the following parameter: 'client_assertion_type' = '${JWT_BEARER_ASSERTION}'.`,
        correlationId,
      )
    }
    return authenticateAssertion(context, app, assertion)
  }
  if (secret === null || secret === '') {
    return entraError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      correlationId,
    )
  }
  if (!app.secrets.has(secret)) {
    return entraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      correlationId,
    )
  }
  return app
}

async function authenticateAssertion(context: ClientAuthenticationContext, app: EmulatedApp, assertion: string): Promise<EmulatedApp | EntraErrorAnswer> {
  const { correlationId } = context
  let claims: JWTPayload
  try {
    claims = decodeJwt(assertion)
  } catch {
    return entraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.', correlationId)
  }
  if (claims.iss === app.clientId && claims.sub === app.clientId) return authenticateCertificateAssertion(context, app, assertion)
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud ?? '']
  const presented = `Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${audiences.join(',')}'.`
  const now = Math.floor(Date.now() / 1000)
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    return entraError(
      400,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${new Date().toISOString()}, assertion valid to: ${typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : 'missing'}.`,
      correlationId,
    )
  }
  const records = app.federatedCredentials.filter((record) => record.issuer === claims.iss)
  if (records.length === 0) {
    return entraError(400, 'invalid_client', 70021, `No matching federated identity record found for presented assertion. ${presented}`, correlationId)
  }
  const audienceMatches = records.filter((record) => record.audiences.some((audience) => audiences.includes(audience)))
  if (audienceMatches.length === 0) {
    return entraError(
      400,
      'invalid_client',
      700212,
      `No matching federated identity record found for presented assertion audience '${audiences.join(',')}'. ${presented}`,
      correlationId,
    )
  }
  if (!audienceMatches.some((record) => record.subject === claims.sub)) {
    return entraError(
      400,
      'invalid_client',
      700213,
      `No matching federated identity record found for presented assertion subject '${claims.sub}'. ${presented}`,
      correlationId,
    )
  }
  if (typeof claims.iat === 'number' && claims.exp - claims.iat > MAX_FEDERATED_LIFETIME_SECONDS) {
    return entraError(400, 'invalid_client', 70023, 'The external OIDC token lifetime must not exceed one day and one hour.', correlationId)
  }
  const jwks = context.trustedIssuers.get(String(claims.iss))
  if (jwks === undefined) {
    return entraError(
      400,
      'invalid_client',
      700211,
      `No matching federated identity record found for presented assertion issuer '${claims.iss}'.`,
      correlationId,
    )
  }
  try {
    await jwtVerify(assertion, createLocalJWKSet(jwks), { issuer: String(claims.iss), clockTolerance: 300 })
  } catch {
    return entraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.', correlationId)
  }
  return app
}

// A client assertion the app signed itself: the header names an uploaded certificate by thumbprint,
// the signature must verify with it, and aud must be this tenant's token endpoint.
async function authenticateCertificateAssertion(
  context: ClientAuthenticationContext,
  app: EmulatedApp,
  assertion: string,
): Promise<EmulatedApp | EntraErrorAnswer> {
  const { correlationId } = context
  const header = decodeProtectedHeader(assertion)
  const thumbprint = (header['x5t#S256'] as string | undefined) ?? header.x5t
  const certificate = app.certificates.find((entry) => entry.x5tS256 === header['x5t#S256'] || entry.x5t === header.x5t)
  if (certificate === undefined) {
    return entraError(
      401,
      'invalid_client',
      700027,
      `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}']`,
      correlationId,
    )
  }
  const now = Math.floor(Date.now() / 1000)
  const claims = decodeJwt(assertion)
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    return entraError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.', correlationId)
  }
  try {
    await jwtVerify(assertion, await importX509(certificate.pem, String(header.alg)), {
      issuer: app.clientId,
      subject: app.clientId,
      audience: context.tokenEndpoints,
      clockTolerance: 300, // Entra tolerates five minutes of clock skew
    })
  } catch (error) {
    const reason =
      (error as { code?: string }).code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
        ? `A claim is not valid: ${(error as Error).message}.`
        : 'The signature is not valid.'
    return entraError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - ${reason}]`, correlationId)
  }
  return app
}
