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
}

/** What {@link Directory.registerApp} returns. */
export interface RegisteredApp {
  tenantId: string
  clientId: string
  clientSecret: string
  servicePrincipalId: string
}

/** Tenants (with their domain names) and app registrations. */
export class Directory {
  readonly defaultTenantId: string
  readonly #tenantsByName = new Map<string, string>()
  readonly #apps = new Map<string, EmulatedApp>()

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
    }
    this.#apps.set(`${tenantId.toLowerCase()}|${clientId.toLowerCase()}`, app)
    return { tenantId, clientId, clientSecret, servicePrincipalId: app.servicePrincipalId }
  }

  findApp(tenantId: string, clientId: string): EmulatedApp | undefined {
    return this.#apps.get(`${tenantId.toLowerCase()}|${clientId.toLowerCase()}`)
  }
}
