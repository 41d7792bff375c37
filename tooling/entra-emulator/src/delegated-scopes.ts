import type { EmulatedApp, EmulatedUser } from './directory'

/** The OpenID Connect scopes: they name no resource. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access'])
/** Where a bare permission (`User.Read`) and a request with OIDC scopes only point. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com'

/** A delegated `scope` parameter, split into its one resource, that resource's permissions and the OIDC scopes. */
export interface DelegatedScopes {
  resource: string
  /** Permission names (`Orders.Read`, `.default`). */
  permissions: string[]
  /** OIDC scopes requested (`openid`, `offline_access`...). */
  oidc: string[]
  /** Every scope as sent, in order. */
  requested: string[]
}

/**
 * Parses a delegated `scope`: `<resource>/<permission>` (the permission after the last `/`), a bare
 * permission for Microsoft Graph, and the OIDC scopes. Returns `multiple` when more than one resource is
 * named (Entra: AADSTS28000), `empty` when there is no scope at all.
 */
export function parseDelegatedScopes(scope: string | null): DelegatedScopes | 'empty' | 'multiple' {
  const requested = (scope ?? '').split(/\s+/).filter((entry) => entry !== '')
  if (requested.length === 0) return 'empty'
  const oidc = requested.filter((entry) => OIDC_SCOPES.has(entry))
  const resources = new Set<string>()
  const permissions: string[] = []
  for (const entry of requested) {
    if (OIDC_SCOPES.has(entry)) continue
    const slash = entry.lastIndexOf('/')
    const resource = slash === -1 ? GRAPH_RESOURCE : entry.slice(0, slash)
    resources.add(resource.replace(/\/$/, ''))
    permissions.push(slash === -1 ? entry : entry.slice(slash + 1))
  }
  if (resources.size > 1) return 'multiple'
  if (resources.size === 0) return { resource: GRAPH_RESOURCE, permissions: ['User.Read'], oidc, requested }
  return { resource: [...resources][0] ?? GRAPH_RESOURCE, permissions, oidc, requested }
}

/** True when the user has consented to every permission asked of `scopes.resource`. */
export function hasConsented(user: EmulatedUser, scopes: Pick<DelegatedScopes, 'resource' | 'permissions'>): boolean {
  if (user.consents.has('*') || user.consents.has(scopes.resource)) return true
  return scopes.permissions.every((permission) =>
    permission === '.default'
      ? [...user.consents].some((entry) => entry.startsWith(`${scopes.resource}/`))
      : user.consents.has(`${scopes.resource}/${permission}`),
  )
}

/** Records the consent a sign-in granted: each named permission, or the whole resource for `.default`. */
export function recordConsent(user: EmulatedUser, scopes: Pick<DelegatedScopes, 'resource' | 'permissions'>): void {
  for (const permission of scopes.permissions) user.consents.add(permission === '.default' ? scopes.resource : `${scopes.resource}/${permission}`)
}

/** The `scp` claim: the named permissions, or for `.default` what the user consented for that resource. */
export function grantedPermissions(user: EmulatedUser, scopes: Pick<DelegatedScopes, 'resource' | 'permissions'>): string[] {
  const named = scopes.permissions.filter((permission) => permission !== '.default')
  if (named.length === scopes.permissions.length) return named
  const consented = [...user.consents].filter((entry) => entry.startsWith(`${scopes.resource}/`)).map((entry) => entry.slice(scopes.resource.length + 1))
  const all = [...new Set([...named, ...consented])]
  return all.length > 0 ? all : ['user_impersonation']
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * True when `presented` matches `registered`: exactly, or (for a public client, whose loopback redirect
 * listener takes any free port) an `http` loopback URI that differs only in its port.
 */
export function redirectUriMatches(app: EmulatedApp, registered: string, presented: string): boolean {
  if (registered === presented) return true
  if (!app.publicClient) return false
  let left: URL
  let right: URL
  try {
    left = new URL(registered)
    right = new URL(presented)
  } catch {
    return false
  }
  if (left.protocol !== 'http:' || right.protocol !== 'http:' || !LOOPBACK_HOSTS.has(left.hostname) || left.hostname !== right.hostname) return false
  return left.pathname === right.pathname && left.search === right.search
}

/** True when the app registered a redirect URI that `presented` matches. */
export function isRegisteredRedirectUri(app: EmulatedApp, presented: string): boolean {
  return app.redirectUris.some((registered) => redirectUriMatches(app, registered, presented))
}
