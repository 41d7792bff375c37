import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto'

/** A federated identity credential: tokens from `issuer` about `subject` for one of `audiences`. */
export interface FederatedCredential {
  issuer: string
  subject: string
  /** Default `['api://AzureADTokenExchange']`. */
  audiences: string[]
}

/** An app registration in the emulator. */
export interface EmulatedApp {
  readonly tenantId: string
  readonly clientId: string
  /** Object id of the app's service principal (the `oid` in app-only tokens). */
  readonly servicePrincipalId: string
  readonly displayName: string
  readonly secrets: Set<string>
  /** App roles granted to the app, per resource (`aud`); `*` matches any resource. */
  readonly roles: Map<string, string[]>
  /** `refresh_in` for this app's tokens, overriding the emulator's. */
  readonly refreshInSeconds: number | undefined
  /** Federated identity credentials. */
  readonly federatedCredentials: FederatedCredential[]
  /** Uploaded certificates, by their SHA-256 and SHA-1 thumbprints (base64url). */
  readonly certificates: { pem: string; x5tS256: string; x5t: string }[]
  /** A public client (desktop, mobile, CLI): user grants need no client secret or assertion. */
  readonly publicClient: boolean
  /** Registered redirect URIs (authorization code flow). */
  readonly redirectUris: string[]
  /** App ID URIs: what an access token for this app as an API may carry as `aud` besides the client id. */
  readonly identifierUris: string[]
}

/** A user account in the emulator's directory. */
export interface EmulatedUser {
  readonly username: string
  readonly password: string
  readonly tenantId: string
  /** Object id (the `oid` claim). */
  readonly oid: string
  /** Display name (the `name` claim). */
  readonly name: string
  /**
   * What the user has consented to: `*` (everything), a resource (`api://orders`: every permission of it)
   * or a resource-qualified permission (`api://orders/Orders.Read`).
   */
  readonly consents: Set<string>
}

/** What {@link Directory.addUser} accepts; everything but username has a default. */
export interface AddUserOptions {
  /** The sign-in name, such as `ada@contoso.onmicrosoft.com` (the `preferred_username` claim). */
  username: string
  /** Password for the emulated sign-in page. Default a random string (returned). */
  password?: string
  /** Home tenant. Default the emulator's default tenant. */
  tenantId?: string
  /** Object id. Default a random GUID. */
  oid?: string
  /** Display name. Default the part of the username before `@`. */
  name?: string
  /** Resource-qualified permissions consented, such as `api://orders/Orders.Read`. */
  consentedScopes?: string[]
  /** Resources consented as a whole, such as `https://storage.azure.com`. */
  consentedResources?: string[]
}

/** What {@link Directory.addUser} returns. */
export interface AddedUser {
  username: string
  password: string
  tenantId: string
  oid: string
  name: string
}

/** What {@link Directory.registerApp} accepts; everything has a default. */
export interface RegisterAppOptions {
  tenantId?: string
  clientId?: string
  clientSecret?: string
  displayName?: string
  /** App roles put in `roles` for every resource. Default none. */
  roles?: string[]
  /** Send `refresh_in` with this many seconds on this app's tokens. Default: the emulator's setting. */
  refreshInSeconds?: number
  /** Federated identity credentials (audiences default to `api://AzureADTokenExchange`). */
  federatedCredentials?: { issuer: string; subject: string; audiences?: string[] }[]
  /** Certificates (PEM) uploaded to the app, for certificate client assertions. */
  certificates?: string[]
  /**
   * A public client app ("allow public client flows"): device code, authorization code and refresh token
   * grants need no client secret or assertion. Default false (a confidential client).
   */
  publicClient?: boolean
  /**
   * Redirect URIs for the authorization code flow. For a public client a loopback `http://localhost` or
   * `http://127.0.0.1` URI matches any port. Default `['http://localhost']` for a public client, none otherwise.
   */
  redirectUris?: string[]
  /** App ID URIs of the app as an API (on-behalf-of `aud`). Default `['api://<client id>']`. */
  identifierUris?: string[]
}

/** What {@link Directory.registerApp} returns. */
export interface RegisteredApp {
  tenantId: string
  clientId: string
  clientSecret: string
  servicePrincipalId: string
  /** App ID URIs (`api://<client id>` by default). */
  identifierUris: string[]
}

/** Tenants (with their domain names) and app registrations. */
export class Directory {
  readonly defaultTenantId: string
  readonly #tenantsByName = new Map<string, string>()
  readonly #apps = new Map<string, EmulatedApp>()
  readonly #users = new Map<string, EmulatedUser>()

  constructor(defaultTenantId: string = randomUUID()) {
    this.defaultTenantId = defaultTenantId
    this.addTenant(defaultTenantId, 'contoso.onmicrosoft.com')
  }

  /** Adds a tenant with optional domain names that resolve to it. */
  addTenant(tenantId: string, ...domains: string[]): void {
    this.#tenantsByName.set(tenantId.toLowerCase(), tenantId)
    for (const domain of domains) this.#tenantsByName.set(domain.toLowerCase(), tenantId)
  }

  /** The tenant id a path segment (GUID or domain) names, or undefined. */
  resolveTenant(segment: string): string | undefined {
    return this.#tenantsByName.get(segment.toLowerCase())
  }

  registerApp(options: RegisterAppOptions = {}): RegisteredApp {
    const tenantId = options.tenantId ?? this.defaultTenantId
    if (this.resolveTenant(tenantId) === undefined) this.addTenant(tenantId)
    const clientId = options.clientId ?? randomUUID()
    const clientSecret = options.clientSecret ?? `emu~${randomBytes(24).toString('base64url')}`
    const app: EmulatedApp = {
      tenantId,
      clientId,
      servicePrincipalId: randomUUID(),
      displayName: options.displayName ?? `app-${clientId.slice(0, 8)}`,
      secrets: new Set([clientSecret]),
      roles: new Map([['*', options.roles ?? []]]),
      refreshInSeconds: options.refreshInSeconds,
      federatedCredentials: (options.federatedCredentials ?? []).map((record) => ({
        issuer: record.issuer,
        subject: record.subject,
        audiences: record.audiences ?? ['api://AzureADTokenExchange'],
      })),
      certificates: (options.certificates ?? []).map((pem) => {
        const der = new X509Certificate(pem).raw
        return { pem, x5tS256: createHash('sha256').update(der).digest('base64url'), x5t: createHash('sha1').update(der).digest('base64url') }
      }),
      publicClient: options.publicClient === true,
      redirectUris: [...(options.redirectUris ?? (options.publicClient === true ? ['http://localhost'] : []))],
      identifierUris: [...(options.identifierUris ?? [`api://${clientId}`])],
    }
    this.#apps.set(`${tenantId.toLowerCase()}|${clientId.toLowerCase()}`, app)
    return { tenantId, clientId, clientSecret, servicePrincipalId: app.servicePrincipalId, identifierUris: [...app.identifierUris] }
  }

  /** Adds a user (usernames are unique across tenants, compared case-insensitively). */
  addUser(options: AddUserOptions): AddedUser {
    const tenantId = options.tenantId ?? this.defaultTenantId
    if (this.resolveTenant(tenantId) === undefined) this.addTenant(tenantId)
    const consents = new Set<string>([...(options.consentedScopes ?? []), ...(options.consentedResources ?? [])].map(withoutTrailingSlash))
    if (options.consentedScopes === undefined && options.consentedResources === undefined) consents.add('*')
    const user: EmulatedUser = {
      username: options.username,
      password: options.password ?? `pw-${randomBytes(9).toString('base64url')}`,
      tenantId,
      oid: options.oid ?? randomUUID(),
      name: options.name ?? options.username.split('@')[0] ?? options.username,
      consents,
    }
    this.#users.set(options.username.toLowerCase(), user)
    return { username: user.username, password: user.password, tenantId, oid: user.oid, name: user.name }
  }

  findUser(username: string): EmulatedUser | undefined {
    return this.#users.get(username.toLowerCase())
  }

  findUserByOid(oid: string): EmulatedUser | undefined {
    for (const user of this.#users.values()) if (user.oid === oid) return user
    return undefined
  }

  findApp(tenantId: string, clientId: string): EmulatedApp | undefined {
    return this.#apps.get(`${tenantId.toLowerCase()}|${clientId.toLowerCase()}`)
  }

  /** The first app registered with this client id in any tenant (for `common` / `organizations`). */
  findAppInAnyTenant(clientId: string): EmulatedApp | undefined {
    for (const app of this.#apps.values()) if (app.clientId.toLowerCase() === clientId.toLowerCase()) return app
    return undefined
  }
}

const withoutTrailingSlash = (value: string): string => value.replace(/\/$/, '')
