import { randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { applyFault, type Fault, FaultQueue } from './faults'
import { type RecordedRequest, readRequest } from './recorded-request'
import { createTokenSigner, type TokenSigner } from './token-signer'

/** Every variable a managed identity host may set, so tests and the demo can clear them all first. */
export const MANAGED_IDENTITY_HOST_VARIABLES = [
  'AZURE_FEDERATED_TOKEN_FILE',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
  'IMDS_ENDPOINT',
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'DEFAULT_IDENTITY_CLIENT_ID',
] as const

/** The managed identity hosts the emulator can play. */
export type ManagedIdentityHostKind = 'imds' | 'app-service' | 'azure-arc' | 'cloud-shell' | 'service-fabric' | 'azure-ml'

/** One identity the emulated resource holds. */
export interface EmulatedIdentity {
  clientId: string
  objectId: string
  resourceId: string
}

/** Options of {@link startManagedIdentityEndpoint}. */
export interface ManagedIdentityEndpointOptions {
  /** Which host to play. */
  host: ManagedIdentityHostKind
  /** How many user-assigned identities the resource holds. Default 1. */
  userAssignedCount?: number
  /** Lifetime of issued tokens, seconds. Default 86 400 (managed identity tokens live about a day). */
  tokenLifetimeSeconds?: number
  /** Azure Arc: the folder the agent writes challenge `.key` files into (a temp folder in tests). Required for `azure-arc`. */
  arcKeyDirectory?: string
  /** Azure Arc: challenge with this path instead of a fresh file in `arcKeyDirectory` (to test the client's file checks). */
  arcRealm?: string
}

/** A running managed identity endpoint. */
export interface ManagedIdentityEndpoint {
  readonly host: ManagedIdentityHostKind
  /** IMDS: the base URL (use as `endpoint`); others: the token endpoint URL the platform would publish. */
  readonly url: string
  /** The variables the platform would set, ready for `vi.stubEnv`. */
  readonly env: Record<string, string>
  /** The secret the platform shares with the process (`IDENTITY_HEADER`, `MSI_SECRET`), if the host has one. */
  readonly secret: string | undefined
  /** Service Fabric: SHA-1 thumbprint of the endpoint's self-signed certificate. */
  readonly thumbprint: string | undefined
  readonly tenantId: string
  readonly systemAssigned: EmulatedIdentity
  readonly userAssigned: EmulatedIdentity[]
  /**
   * Azure ML: the compute user (not a managed identity), whose token the real endpoint answers to a
   * request without `clientid`; `env` sets `DEFAULT_IDENTITY_CLIENT_ID` to the system-assigned id.
   */
  readonly computeUser: EmulatedIdentity
  /** Keys that verify the issued tokens. */
  readonly jwks: TokenSigner['jwks']
  readonly requests: RecordedRequest[]
  /** Applies `fault` to the next `count` requests (default 1), or to all of them for `forMs`. */
  injectFault(fault: Fault, options?: { count?: number; forMs?: number }): void
  /**
   * Answers `count` requests (default 1) with `status` (default 307) and `Location: location`, after
   * letting the next `skip` (default 0) through as usual.
   */
  injectRedirect(location: string, options?: { status?: number; count?: number; skip?: number }): void
  clearFaults(): void
  close(): Promise<void>
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> }

const certificateUrl = new URL('../certs/loopback.crt', import.meta.url)
const keyUrl = new URL('../certs/loopback.key', import.meta.url)
const PATHS: Record<ManagedIdentityHostKind, string> = {
  imds: '/metadata/identity/oauth2/token',
  'azure-arc': '/metadata/identity/oauth2/token',
  'service-fabric': '/metadata/identity/oauth2/token',
  'app-service': '/msi/token',
  'azure-ml': '/MSI/auth',
  'cloud-shell': '/oauth2/token',
}
const API_VERSIONS: Partial<Record<ManagedIdentityHostKind, string[]>> = {
  imds: ['2018-02-01'],
  'azure-arc': ['2019-11-01', '2020-06-01'],
  'service-fabric': ['2019-07-01-preview'],
  'app-service': ['2019-08-01'],
  'azure-ml': ['2017-09-01'],
}
// Query parameter names that select a user-assigned identity, per host: [client id, object id, resource id].
const ID_PARAMETERS: Record<ManagedIdentityHostKind, string[][]> = {
  imds: [['client_id'], ['object_id'], ['msi_res_id']],
  'app-service': [['client_id'], ['principal_id', 'object_id'], ['mi_res_id']],
  'service-fabric': [['client_id'], ['object_id', 'principal_id'], ['mi_res_id']],
  'azure-ml': [['clientid', 'client_id'], [], []],
  'azure-arc': [['client_id'], ['object_id'], ['msi_res_id', 'mi_res_id']],
  'cloud-shell': [['client_id'], ['object_id'], ['msi_res_id']],
}

function identity(tenantSuffix: string): EmulatedIdentity {
  const name = `emulated-${randomUUID().slice(0, 8)}`
  return {
    clientId: randomUUID(),
    objectId: randomUUID(),
    resourceId: `/subscriptions/${tenantSuffix}/resourcegroups/emulator/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
  }
}

/** `11/22/2026 10:00:00 PM +00:00`, the date format older App Service and Azure ML answers use. */
function legacyDate(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000)
  const pad = (value: number): string => String(value).padStart(2, '0')
  const hours = date.getUTCHours()
  const hour12 = hours % 12 === 0 ? 12 : hours % 12
  return `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()} ${pad(hour12)}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'} +00:00`
}

/**
 * Starts one managed identity host on loopback, with that host's wire rules and answer quirks: IMDS
 * (strings for every number, `Metadata` required, forwarded requests refused), App Service
 * (`X-IDENTITY-HEADER`, epoch-string `expires_on`), Azure Arc (401 challenge naming a fresh `.key`
 * file), Cloud Shell (POST form), Service Fabric (HTTPS with a self-signed certificate, numeric
 * `expires_on`), Azure ML (`secret`, date-string `expires_on`, the compute user's token without
 * `clientid`). A request without `Metadata` gets IMDS's own refusal: HTTP 400 with a JSON `error`.
 */
export async function startManagedIdentityEndpoint(options: ManagedIdentityEndpointOptions): Promise<ManagedIdentityEndpoint> {
  const kind = options.host
  if (kind === 'azure-arc' && options.arcKeyDirectory === undefined) throw new Error('startManagedIdentityEndpoint: azure-arc needs arcKeyDirectory')
  const lifetime = options.tokenLifetimeSeconds ?? 86_400
  const tenantId = randomUUID()
  const signer = await createTokenSigner()
  const faults = new FaultQueue()
  const requests: RecordedRequest[] = []
  const systemAssigned = identity(tenantId)
  const userAssigned = Array.from({ length: options.userAssignedCount ?? 1 }, () => identity(tenantId))
  const computeUser = identity(tenantId)
  const redirects: { location: string; status: number; from: number; to: number }[] = []
  const secret = kind === 'app-service' || kind === 'service-fabric' || kind === 'azure-ml' ? randomBytes(24).toString('base64url') : undefined
  const certificate = readFileSync(certificateUrl, 'utf8')
  const thumbprint = kind === 'service-fabric' ? new X509Certificate(certificate).fingerprint.replace(/:/g, '') : undefined
  let lastArcKeyFile: string | undefined
  let origin = ''

  const findIdentity = (query: URLSearchParams): EmulatedIdentity | 'ambiguous' | 'unknown' => {
    const given = ID_PARAMETERS[kind].flatMap((names, index) => names.filter((name) => query.has(name)).map((name) => [index, query.get(name) ?? ''] as const))
    // Azure ML answers a request without clientid with the compute user's token (PROTOCOL.md).
    if (given.length === 0) return kind === 'azure-ml' ? computeUser : systemAssigned
    if (given.length > 1) return 'ambiguous'
    const [index, value] = given[0] as readonly [number, string]
    const field = (['clientId', 'objectId', 'resourceId'] as const)[index] as keyof EmulatedIdentity
    return (
      (kind === 'azure-ml' ? [systemAssigned, ...userAssigned] : userAssigned).find((candidate) => candidate[field].toLowerCase() === value.toLowerCase()) ??
      'unknown'
    )
  }

  const issue = async (resource: string, holder: EmulatedIdentity): Promise<{ token: string; expiresOn: number; now: number }> => {
    const now = Math.floor(Date.now() / 1000)
    const token = await signer.sign(
      {
        aud: resource,
        iss: `https://sts.windows.net/${tenantId}/`,
        tid: tenantId,
        oid: holder.objectId,
        sub: holder.objectId,
        appid: holder.clientId,
        idtyp: 'app',
        xms_mirid: holder.resourceId,
      },
      lifetime,
    )
    return { token, expiresOn: now + lifetime, now }
  }

  const refuse = (status: number, description: string): Answer =>
    kind === 'app-service' || kind === 'azure-ml'
      ? { status, body: { statusCode: status, message: description } }
      : kind === 'service-fabric'
        ? { status, body: { error: { correlationId: randomUUID(), code: status === 401 ? 'SecretHeaderNotFound' : 'BadRequest', message: description } } }
        : { status, body: { error: 'invalid_request', error_description: description } }

  const route = async (request: IncomingMessage, url: URL, form: URLSearchParams): Promise<Answer> => {
    // IMDS and its relatives accept the token path with or without a trailing slash (MSAL sends one).
    if (url.pathname.replace(/\/$/, '') !== PATHS[kind])
      return { status: 404, body: { error: 'not_found', error_description: `no ${request.method} ${url.pathname} here` } }
    const headers = request.headers
    const query = kind === 'cloud-shell' ? form : url.searchParams
    if (kind === 'cloud-shell' && request.method !== 'POST') return refuse(405, 'Cloud Shell expects POST')
    if ((kind === 'imds' || kind === 'azure-arc' || kind === 'cloud-shell') && headers.metadata !== 'true') {
      // IMDS's documented answer (managed identity token errors: bad_request_102).
      if (kind === 'imds') return { status: 400, body: { error: 'bad_request_102', error_description: 'Required metadata header not specified' } }
      return refuse(400, 'Required metadata header not specified')
    }
    if (kind === 'imds' && headers['x-forwarded-for'] !== undefined) return refuse(400, 'Request came through a proxy; IMDS answers direct requests only')
    if (kind === 'app-service' && headers['x-identity-header'] !== secret) return refuse(401, 'X-IDENTITY-HEADER is missing or wrong')
    if ((kind === 'service-fabric' || kind === 'azure-ml') && headers.secret !== secret) return refuse(401, 'secret header is missing or wrong')
    const versions = API_VERSIONS[kind]
    if (versions !== undefined && !versions.includes(url.searchParams.get('api-version') ?? '')) return refuse(400, 'Invalid or missing api-version')
    const resource = query.get('resource')
    if (resource === null || resource === '') return refuse(400, 'Required audience parameter not specified')
    if (kind === 'azure-arc') {
      if (ID_PARAMETERS[kind].flat().some((name) => url.searchParams.has(name))) return refuse(400, 'User-assigned identities are not supported on Azure Arc')
      const authorization = headers.authorization
      const expected = lastArcKeyFile === undefined ? undefined : readFileSync(lastArcKeyFile, 'utf8').trim()
      if (authorization === undefined || expected === undefined || authorization !== `Basic ${expected}`) {
        lastArcKeyFile = options.arcRealm ?? join(options.arcKeyDirectory as string, `${randomUUID()}.key`)
        if (options.arcRealm === undefined) writeFileSync(lastArcKeyFile, randomBytes(32).toString('base64'))
        return { status: 401, body: { error: 'unauthorized' }, headers: { 'www-authenticate': `Basic realm=${lastArcKeyFile}` } }
      }
    }
    const holder = findIdentity(query)
    if (holder === 'ambiguous') return refuse(400, 'Only one of the identity parameters may be given')
    if (holder === 'unknown') return refuse(400, 'Identity not found')
    const { token, expiresOn, now } = await issue(resource, holder)
    switch (kind) {
      case 'app-service':
        return { status: 200, body: { access_token: token, expires_on: String(expiresOn), resource, token_type: 'Bearer', client_id: holder.clientId } }
      case 'service-fabric':
        return { status: 200, body: { token_type: 'Bearer', access_token: token, expires_on: expiresOn, resource } }
      case 'azure-ml':
        return { status: 200, body: { access_token: token, expires_on: legacyDate(expiresOn), resource, token_type: 'Bearer', clientid: holder.clientId } }
      default:
        return {
          status: 200,
          body: {
            access_token: token,
            refresh_token: '',
            expires_in: String(lifetime),
            expires_on: String(expiresOn),
            ext_expires_in: String(lifetime),
            not_before: String(now),
            resource,
            token_type: 'Bearer',
            ...(kind === 'imds' ? { client_id: holder.clientId } : {}),
          },
        }
    }
  }

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { url, form, recorded } = await readRequest(request, origin)
    requests.push(recorded)
    const redirect = redirects.find((planned) => requests.length > planned.from && requests.length <= planned.to)
    if (redirect !== undefined) {
      response.writeHead(redirect.status, { location: redirect.location, 'content-type': 'application/json; charset=utf-8' })
      response.end('{}')
      return
    }
    const fault = faults.take(url.pathname)
    if (fault !== undefined && (await applyFault(fault, request, response))) return
    const answer = await route(request, url, form)
    response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers })
    response.end(JSON.stringify(answer.body))
  }
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch(() => response.destroy())
  }
  const server: Server =
    kind === 'service-fabric' ? createHttpsServer({ cert: certificate, key: readFileSync(keyUrl, 'utf8') }, listener) : createHttpServer(listener)
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  origin = `${kind === 'service-fabric' ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`
  const endpoint = `${origin}${PATHS[kind]}`
  const env: Record<string, string> = {
    imds: { AZURE_POD_IDENTITY_AUTHORITY_HOST: origin },
    'app-service': { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: secret as string },
    'service-fabric': { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: secret as string, IDENTITY_SERVER_THUMBPRINT: thumbprint as string },
    'azure-arc': { IDENTITY_ENDPOINT: endpoint, IMDS_ENDPOINT: origin },
    'cloud-shell': { MSI_ENDPOINT: endpoint },
    'azure-ml': { MSI_ENDPOINT: endpoint, MSI_SECRET: secret as string, DEFAULT_IDENTITY_CLIENT_ID: systemAssigned.clientId },
  }[kind]

  return {
    host: kind,
    url: kind === 'imds' ? origin : endpoint,
    env,
    secret,
    thumbprint,
    tenantId,
    systemAssigned,
    userAssigned,
    computeUser,
    jwks: signer.jwks,
    requests,
    injectFault: (fault, faultOptions = {}) =>
      faultOptions.forMs === undefined ? faults.add(fault, faultOptions.count ?? 1) : faults.addFor(fault, faultOptions.forMs),
    injectRedirect: (location, { status = 307, count = 1, skip = 0 } = {}) => {
      const from = requests.length + skip
      redirects.push({ location, status, from, to: from + count })
    },
    clearFaults: () => faults.clear(),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
