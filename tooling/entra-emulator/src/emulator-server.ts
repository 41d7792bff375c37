import { randomUUID } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { JSONWebKeySet } from 'jose'
import { type SignInAtAuthorizeOptions, type SignInAtAuthorizeResult, signInAtAuthorize } from './authorize-driver'
import { AuthorizePage, type PageAnswer } from './authorize-page'
import { authenticateClient } from './client-authentication'
import { deviceLoginPage } from './device-login-page'
import { type AddedUser, type AddUserOptions, Directory, type RegisterAppOptions, type RegisteredApp } from './directory'
import { type EntraErrorAnswer, entraError } from './entra-errors'
import { applyFault, type Fault, FaultQueue } from './faults'
import { AuthorizationCodeStore, authorizationCodeGrant } from './grant-authorization-code'
import { clientCredentialsGrant } from './grant-client-credentials'
import type { GrantContext, TokenAnswer } from './grant-context'
import { DEVICE_CODE_GRANT, type DeviceCodeControl, DeviceCodeStore, deviceAuthorization, deviceCodeGrant } from './grant-device-code'
import { JWT_BEARER_GRANT, onBehalfOfGrant } from './grant-on-behalf-of'
import { refreshTokenGrant } from './grant-refresh-token'
import { loopbackTls, trustingFetch } from './loopback-tls'
import { type RecordedRequest, readRequest } from './recorded-request'
import { createTokenSigner } from './token-signer'
import type { UserGrantContext } from './user-grant-context'
import { delegatedAccessTokenClaims, MfaRequirements, RefreshTokenStore, type UserTokenIssuerDeps } from './user-tokens'

/** Options of {@link startEntraEmulator}. */
export interface EntraEmulatorOptions {
  /** `https` (default, with a loopback certificate the emulator's `fetch` trusts) or `http`. */
  protocol?: 'http' | 'https'
  /** Loopback address to listen on. Default `127.0.0.1`. */
  host?: '127.0.0.1' | 'localhost' | '::1'
  /** Port. Default 0 (any free port). */
  port?: number
  /** Lifetime of issued access tokens, in seconds. Default 3600. */
  tokenLifetimeSeconds?: number
  /** When set, token answers carry `refresh_in` with this many seconds. */
  refreshInSeconds?: number
  /** The default tenant's id. Default a random GUID. */
  tenantId?: string
  /**
   * Resources (as in `<resource>/.default`, such as `https://storage.azure.com`) whose access tokens are
   * v1.0, as Entra issues them for APIs that accept v1 tokens (Storage, Azure Resource Manager, Key Vault):
   * `iss` and `idp` `https://sts.windows.net/<tenant id>/`, `ver` `1.0`, `appid` and `appidacr` (1 for a
   * secret, 2 for a certificate or assertion) instead of `azp`. What Azurite's OAuth mode accepts.
   * Default none: every token is v2.0 (`iss` `<url>/<tenant id>/v2.0`).
   */
  v1TokenResources?: string[]
  /** `interval` of device codes, in seconds (how long clients wait between polls). Default 5, as Entra. */
  deviceCodeIntervalSeconds?: number
  /** `expires_in` of device codes, in seconds. Default 900, as Entra. */
  deviceCodeLifetimeSeconds?: number
  /** Lifetime of refresh tokens, in seconds; an older one is refused with AADSTS700082. Default 90 days. */
  refreshTokenLifetimeSeconds?: number
  /**
   * Whether a refresh token stays valid after it was redeemed for a new one. Default true (Entra's
   * behaviour); false makes only the newest refresh token work (the old one: `invalid_grant` AADSTS70000).
   * Changeable later through `emulator.refreshTokens.oldTokensStayValid`.
   */
  oldRefreshTokensStayValid?: boolean
}

/** Control of the refresh tokens the emulator issued. */
export interface RefreshTokenControl {
  /** Whether a redeemed refresh token stays valid (see {@link EntraEmulatorOptions.oldRefreshTokensStayValid}). */
  oldTokensStayValid: boolean
  /** Revokes every refresh token of the user (a password reset): `invalid_grant` AADSTS50173. Returns how many. */
  revoke(username: string): number
  /** Expires every refresh token of the user: `invalid_grant` AADSTS700082. Returns how many. */
  expire(username: string): number
}

/** What {@link EntraEmulator.issueUserToken} accepts. */
export interface IssueUserTokenOptions {
  username: string
  /** `aud`: an app's client id or App ID URI (for on-behalf-of), or any resource. */
  audience: string
  /** The client the user signed in to (`azp`). Default a fixed "emulated client" id. */
  clientId?: string
  /** `scp`. Default `['access_as_user']`. */
  scopes?: string[]
  /** Lifetime in seconds; negative for an expired token. Default the emulator's token lifetime. */
  expiresInSeconds?: number
  /** Adds `mfa` to `amr` (satisfies `requireMfa` rules in on-behalf-of). Default false. */
  mfa?: boolean
}

/** A running emulator. */
export interface EntraEmulator {
  /** Origin, such as `https://127.0.0.1:51234`; use it as `authorityHost`. */
  readonly url: string
  /** Same as `url`. */
  readonly authorityHost: string
  /** The default tenant. */
  readonly tenantId: string
  /**
   * The CA certificate (PEM) to trust for `https` (`ca`, `tlsOptions: { ca }`, `NODE_EXTRA_CA_CERTS`).
   * The server presents a loopback leaf certificate (CA:FALSE) that this CA signed.
   */
  readonly certificate: string
  /** A `fetch` that trusts the emulator's certificate. */
  readonly fetch: (input: string, init?: RequestInit) => Promise<Response>
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[]
  /** Registers an app (with a client secret) and returns its ids and secret. */
  registerApp(options?: RegisterAppOptions): RegisteredApp
  /** Adds a tenant with optional domain names. */
  addTenant(tenantId: string, ...domains: string[]): void
  /** Trusts an external issuer's keys for federated credentials (Entra would fetch its JWKS). */
  trustIssuer(issuer: string, jwks: JSONWebKeySet): void
  /** Applies `fault` to the next `count` requests (default 1) whose path includes `pathIncludes`. */
  injectFault(fault: Fault, options?: { count?: number; pathIncludes?: string }): void
  /** Drops pending faults. */
  clearFaults(): void
  /** Requests whose path includes this string (such as `/oauth2/v2.0/token`). */
  requestsTo(pathIncludes: string): RecordedRequest[]
  /** Adds a user (password, oid and consent have defaults: without consent options the user consents to everything). */
  addUser(options: AddUserOptions): AddedUser
  /** Device codes: approve, deny, expire, slow down, see the polls. */
  readonly deviceCodes: DeviceCodeControl
  /** Refresh tokens: rotation setting, revocation, expiry. */
  readonly refreshTokens: RefreshTokenControl
  /** Revokes every refresh token of the user (same as `refreshTokens.revoke`): AADSTS50173. */
  revokeRefreshTokens(username: string): number
  /**
   * A Conditional Access rule: refresh-token and on-behalf-of requests of this user for `resource` answer
   * `interaction_required` AADSTS50076 with a `claims` challenge until the user signs in interactively again.
   */
  requireMfa(username: string, resource: string): void
  /**
   * Plays the user in a browser with plain HTTP requests: GETs an authorize URL (as a client library built
   * it), posts the username and password, answers the consent page if shown, and returns where it ended
   * (the redirect `location` with `code`/`state` or `error`, or the page).
   */
  signInAtAuthorize(authorizeUrl: string, options: SignInAtAuthorizeOptions): Promise<SignInAtAuthorizeResult>
  /** Makes every unredeemed authorization code expire now (redemption: `invalid_grant` AADSTS70008). Returns how many. */
  expireAuthorizationCodes(): number
  /** Signs a delegated access token of a user for `audience`, as if the user had signed in to a client. */
  issueUserToken(options: IssueUserTokenOptions): Promise<string>
  /** Stops the server and closes open connections. */
  close(): Promise<void>
}

/** An answer of the emulator: JSON (`body`), or an HTML page / redirect (`html`, `location`). */
type Answer = TokenAnswer | EntraErrorAnswer | { status: number; body: unknown } | PageAnswer

function sendJson(response: ServerResponse, answer: Answer): void {
  if (!('body' in answer)) {
    const headers: Record<string, string> = { 'cache-control': 'no-store, no-cache', 'content-type': 'text/html; charset=utf-8' }
    if (answer.location !== undefined) headers.location = answer.location
    response.writeHead(answer.status, headers)
    response.end(answer.html ?? '')
    return
  }
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store, no-cache',
  })
  response.end(JSON.stringify(answer.body))
}

/**
 * Starts an Entra ID v2.0 emulator on loopback.
 * @example
 * const emulator = await startEntraEmulator()
 * const app = emulator.registerApp()
 * const credential = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, { authorityHost: emulator.authorityHost, fetch: emulator.fetch })
 */
export async function startEntraEmulator(options: EntraEmulatorOptions = {}): Promise<EntraEmulator> {
  const protocol = options.protocol ?? 'https'
  const host = options.host ?? '127.0.0.1'
  const lifetime = options.tokenLifetimeSeconds ?? 3600
  const tls = loopbackTls()
  const v1Resources = new Set((options.v1TokenResources ?? []).map(withoutTrailingSlash))
  const directory = new Directory(options.tenantId)
  const signer = await createTokenSigner()
  const faults = new FaultQueue()
  const requests: RecordedRequest[] = []
  const trustedIssuers = new Map<string, JSONWebKeySet>()
  const mfa = new MfaRequirements()
  const refreshTokens = new RefreshTokenStore(options.refreshTokenLifetimeSeconds ?? 90 * 86_400, options.oldRefreshTokensStayValid ?? true)
  const deviceCodes = new DeviceCodeStore(directory, mfa)
  const authorizationCodes = new AuthorizationCodeStore()
  const authorizePage = new AuthorizePage({ directory, mfa, codes: authorizationCodes })
  let origin = ''
  const users: UserTokenIssuerDeps = {
    signer,
    v2Issuer: (tenantId) => `${origin}/${tenantId}/v2.0`,
    v1Issuer,
    isV1Resource: (resource) => v1Resources.has(withoutTrailingSlash(resource)),
    lifetimeSeconds: lifetime,
    ...(options.refreshInSeconds !== undefined ? { refreshInSeconds: options.refreshInSeconds } : {}),
    refreshTokens,
    mfa,
  }

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { url, form, recorded } = await readRequest(request, origin)
    requests.push(recorded)
    const fault = faults.take(url.pathname)
    if (fault !== undefined && (await applyFault(fault, request, response))) return
    sendJson(response, await route(request.method ?? 'GET', url, form, request))
  }

  const route = async (method: string, url: URL, form: URLSearchParams, request: IncomingMessage): Promise<Answer> => {
    const correlationId = request.headers['client-request-id']?.toString() ?? randomUUID()
    const segments = url.pathname.split('/').filter((segment) => segment !== '')
    if (method === 'GET' && url.pathname === '/common/discovery/instance') {
      return { status: 200, body: instanceDiscovery(url) }
    }
    if (url.pathname === '/devicelogin' && (method === 'GET' || method === 'POST')) return deviceLoginPage(method, form, directory, deviceCodes)
    const tenantSegment = segments[0] ?? ''
    const rest = segments.slice(1).join('/')
    let tenantId = directory.resolveTenant(tenantSegment)
    if (tenantId === undefined && MULTI_TENANT_SEGMENTS.has(tenantSegment.toLowerCase())) {
      // `common` / `organizations`: metadata with Entra's `{tenantid}` issuer template; user endpoints act in the
      // tenant of the app named by client_id (a user of another tenant cannot sign in there: a limitation).
      if (method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
        return {
          status: 200,
          body: { ...openIdConfiguration(origin, tenantSegment, '{tenantid}'), jwks_uri: `${origin}/${tenantSegment}/discovery/v2.0/keys` },
        }
      }
      if (method === 'GET' && rest === 'discovery/v2.0/keys') return { status: 200, body: signer.jwks }
      if (method === 'POST' && rest === 'oauth2/v2.0/authorize') return authorizePage.submit(form, tenantSegment)
      const userEndpoint =
        (method === 'GET' && rest === 'oauth2/v2.0/authorize') ||
        (method === 'POST' && rest === 'oauth2/v2.0/devicecode') ||
        (method === 'POST' && rest === 'oauth2/v2.0/token' && form.get('grant_type') !== 'client_credentials')
      const clientId = method === 'GET' ? url.searchParams.get('client_id') : form.get('client_id')
      if (userEndpoint && clientId !== null) tenantId = directory.findAppInAnyTenant(clientId)?.tenantId
    }
    if (tenantId === undefined) {
      return entraError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        correlationId,
      )
    }
    if (method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      return { status: 200, body: openIdConfiguration(origin, tenantSegment, tenantId) }
    }
    if (method === 'GET' && rest === '.well-known/openid-configuration') {
      return {
        status: 200,
        body: { ...openIdConfiguration(origin, tenantSegment, tenantId), issuer: v1Issuer(tenantId), jwks_uri: `${origin}/${tenantId}/discovery/keys` },
      }
    }
    if (method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys')) return { status: 200, body: signer.jwks }
    if (rest === 'oauth2/v2.0/authorize' && (method === 'GET' || method === 'POST')) {
      return method === 'GET' ? authorizePage.start(url, tenantSegment, tenantId) : authorizePage.submit(form, tenantSegment)
    }
    if (method === 'POST' && rest === 'oauth2/v2.0/devicecode') {
      return deviceAuthorization(userGrantContext(tenantId, form, correlationId, request), {
        store: deviceCodes,
        verificationUri: `${origin}/devicelogin`,
        lifetimeSeconds: options.deviceCodeLifetimeSeconds ?? 900,
        interval: options.deviceCodeIntervalSeconds ?? 5,
      })
    }
    if (method === 'POST' && rest === 'oauth2/v2.0/token') {
      const context = grantContext(tenantId, form, correlationId, request)
      switch (form.get('grant_type')) {
        case 'client_credentials':
          return clientCredentialsGrant(context)
        case DEVICE_CODE_GRANT:
        case 'device_code': // what MSAL sends; Entra accepts both
          return deviceCodeGrant(userGrantContext(tenantId, form, correlationId, request), deviceCodes)
        case 'refresh_token':
          return refreshTokenGrant(userGrantContext(tenantId, form, correlationId, request))
        case 'authorization_code':
          return authorizationCodeGrant(userGrantContext(tenantId, form, correlationId, request), authorizationCodes)
        case JWT_BEARER_GRANT:
          return onBehalfOfGrant(userGrantContext(tenantId, form, correlationId, request))
        case null:
          return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.", correlationId)
        default:
          return entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.', correlationId)
      }
    }
    return { status: 404, body: { error: 'not_found', error_description: `The emulator has no ${method} ${url.pathname}` } }
  }

  const grantContext = (tenantId: string, form: URLSearchParams, correlationId: string, request: IncomingMessage): GrantContext => ({
    tenantId,
    form,
    correlationId,
    authenticateClient: () =>
      authenticateClient({
        directory,
        trustedIssuers,
        tenantId,
        form,
        headers: request.headers,
        correlationId,
        tokenEndpoints: [
          `${origin}/${tenantId}/oauth2/v2.0/token`,
          `${origin}/${new URL(request.url ?? '/', origin).pathname.split('/')[1]}/oauth2/v2.0/token`,
        ],
      }),
    async issueAccessToken(claims, app) {
      const { azp, ...v1Claims } = claims
      const payload = v1Resources.has(withoutTrailingSlash(String(claims.aud)))
        ? { iss: v1Issuer(tenantId), idp: v1Issuer(tenantId), tid: tenantId, ver: '1.0', ...v1Claims, appidacr: form.has('client_assertion') ? '2' : '1' }
        : { iss: `${origin}/${tenantId}/v2.0`, tid: tenantId, ver: '2.0', ...claims }
      const token = await signer.sign(payload, lifetime)
      const body: Record<string, unknown> = { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token }
      const refreshIn = app?.refreshInSeconds ?? options.refreshInSeconds
      if (refreshIn !== undefined) body.refresh_in = refreshIn
      return { status: 200, body }
    },
  })

  const userGrantContext = (tenantId: string, form: URLSearchParams, correlationId: string, request: IncomingMessage): UserGrantContext => ({
    ...grantContext(tenantId, form, correlationId, request),
    directory,
    users,
    hasBasicAuthorization: request.headers.authorization?.startsWith('Basic ') === true,
  })

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, { status: 500, body: { error: 'server_error', error_description: String(error) } })
      else response.destroy()
    })
  }
  const server: Server = protocol === 'https' ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener) : createHttpServer(listener)
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  origin = `${protocol}://${host === '::1' ? '[::1]' : host}:${address.port}`
  const client = trustingFetch(tls.ca)

  return {
    url: origin,
    authorityHost: origin,
    tenantId: directory.defaultTenantId,
    certificate: tls.ca,
    fetch: client.fetch,
    requests,
    registerApp: (appOptions) => directory.registerApp(appOptions),
    addTenant: (tenantId, ...domains) => directory.addTenant(tenantId, ...domains),
    trustIssuer: (issuer, jwks) => {
      trustedIssuers.set(issuer, jwks)
    },
    injectFault: (fault, faultOptions = {}) => faults.add(fault, faultOptions.count ?? 1, faultOptions.pathIncludes),
    clearFaults: () => faults.clear(),
    requestsTo: (pathIncludes) => requests.filter((recorded) => recorded.path.includes(pathIncludes)),
    addUser: (userOptions) => directory.addUser(userOptions),
    deviceCodes,
    refreshTokens: {
      get oldTokensStayValid() {
        return refreshTokens.oldTokensStayValid
      },
      set oldTokensStayValid(value: boolean) {
        refreshTokens.oldTokensStayValid = value
      },
      revoke: (username) => refreshTokens.invalidate(username, 'revoked'),
      expire: (username) => refreshTokens.invalidate(username, 'expired'),
    },
    revokeRefreshTokens: (username) => refreshTokens.invalidate(username, 'revoked'),
    requireMfa: (username, resource) => mfa.require(username, resource),
    expireAuthorizationCodes: () => authorizationCodes.expireAll(),
    signInAtAuthorize: (authorizeUrl, signInOptions) =>
      signInAtAuthorize(client.fetch, authorizeUrl, {
        ...signInOptions,
        password: signInOptions.password ?? directory.findUser(signInOptions.username)?.password ?? '',
      }),
    async issueUserToken(tokenOptions) {
      const user = directory.findUser(tokenOptions.username)
      if (user === undefined) throw new Error(`no user ${tokenOptions.username}`)
      const clientId = tokenOptions.clientId ?? EMULATED_USER_CLIENT_ID
      const claims = delegatedAccessTokenClaims(users, {
        app: { clientId },
        user,
        resource: tokenOptions.audience,
        scp: tokenOptions.scopes ?? ['access_as_user'],
        tenantId: user.tenantId,
        clientAuthentication: '0',
        mfa: tokenOptions.mfa === true,
      })
      return signer.sign(claims, tokenOptions.expiresInSeconds ?? lifetime)
    },
    async close() {
      await client.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Tenant path segments that name no one tenant. */
const MULTI_TENANT_SEGMENTS = new Set(['common', 'organizations'])
/** `azp` of {@link EntraEmulator.issueUserToken} tokens when no client is named. */
const EMULATED_USER_CLIENT_ID = '5d1f1c6e-0000-4000-8000-00000000e1e1'
const withoutTrailingSlash = (resource: string): string => resource.replace(/\/$/, '')
const v1Issuer = (tenantId: string): string => `https://sts.windows.net/${tenantId}/`

function openIdConfiguration(origin: string, tenantSegment: string, tenantId: string): Record<string, unknown> {
  const base = `${origin}/${tenantSegment}`
  return {
    issuer: `${origin}/${tenantId}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${origin}/${tenantId}/discovery/v2.0/keys`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    tenant_region_scope: null,
    cloud_instance_name: 'emulator.local',
  }
}

function instanceDiscovery(url: URL): Record<string, unknown> {
  const authority = url.searchParams.get('authorization_endpoint') ?? ''
  const host = (() => {
    try {
      return new URL(authority).host
    } catch {
      return 'localhost'
    }
  })()
  return {
    tenant_discovery_endpoint: `${authority.replace(/\/oauth2\/v2\.0\/authorize$/, '')}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  }
}
