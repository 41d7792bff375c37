import { describe, expect, it } from 'vitest'
import { grantedPermissions, hasConsented, parseDelegatedScopes, recordConsent, redirectUriMatches } from './delegated-scopes'
import { Directory } from './directory'

const directory = new Directory()
const publicApp = directory.findApp(directory.defaultTenantId, directory.registerApp({ publicClient: true, clientId: 'public-app' }).clientId)
const confidentialApp = directory.findApp(directory.defaultTenantId, directory.registerApp({ clientId: 'confidential-app' }).clientId)

describe('delegated scopes', () => {
  it('splits one resource, its permissions and the OIDC scopes; bare permissions are Graph', () => {
    expect(parseDelegatedScopes('api://orders/Orders.Read api://orders/Orders.Write openid offline_access')).toEqual({
      resource: 'api://orders',
      permissions: ['Orders.Read', 'Orders.Write'],
      oidc: ['openid', 'offline_access'],
      requested: ['api://orders/Orders.Read', 'api://orders/Orders.Write', 'openid', 'offline_access'],
    })
    expect(parseDelegatedScopes('User.Read Mail.Read')).toMatchObject({ resource: 'https://graph.microsoft.com', permissions: ['User.Read', 'Mail.Read'] })
    expect(parseDelegatedScopes('openid profile')).toMatchObject({ resource: 'https://graph.microsoft.com', permissions: ['User.Read'] })
    expect(parseDelegatedScopes('https://storage.azure.com//.default')).toMatchObject({ resource: 'https://storage.azure.com', permissions: ['.default'] })
    expect(parseDelegatedScopes('api://a/X User.Read')).toBe('multiple')
    expect(parseDelegatedScopes('  ')).toBe('empty')
    expect(parseDelegatedScopes(null)).toBe('empty')
  })

  it('consent: per permission, per resource, or everything; .default grants what was consented', () => {
    const added = directory.addUser({ username: 'consent@contoso.onmicrosoft.com', consentedScopes: ['api://orders/Orders.Read'] })
    const user = directory.findUser(added.username)
    if (user === undefined) throw new Error('user missing')
    expect(hasConsented(user, { resource: 'api://orders', permissions: ['Orders.Read'] })).toBe(true)
    expect(hasConsented(user, { resource: 'api://orders', permissions: ['Orders.Write'] })).toBe(false)
    expect(hasConsented(user, { resource: 'api://orders', permissions: ['.default'] })).toBe(true)
    expect(grantedPermissions(user, { resource: 'api://orders', permissions: ['.default'] })).toEqual(['Orders.Read'])
    expect(hasConsented(user, { resource: 'api://billing', permissions: ['.default'] })).toBe(false)
    recordConsent(user, { resource: 'api://billing', permissions: ['.default'] })
    expect(hasConsented(user, { resource: 'api://billing', permissions: ['Anything'] })).toBe(true)
    expect(grantedPermissions(user, { resource: 'api://billing', permissions: ['.default'] })).toEqual(['user_impersonation'])
  })

  it('redirect URIs: exact, or for a public client a loopback http URI on another port (same host, path, query)', () => {
    if (publicApp === undefined || confidentialApp === undefined) throw new Error('apps missing')
    expect(redirectUriMatches(publicApp, 'http://localhost/cb', 'http://localhost:5123/cb')).toBe(true)
    expect(redirectUriMatches(publicApp, 'http://127.0.0.1', 'http://127.0.0.1:5123')).toBe(true)
    expect(redirectUriMatches(publicApp, 'http://localhost/cb', 'http://localhost:5123/other')).toBe(false)
    expect(redirectUriMatches(publicApp, 'http://localhost/cb', 'http://127.0.0.1:5123/cb')).toBe(false)
    expect(redirectUriMatches(publicApp, 'https://app.example.test/cb', 'https://app.example.test:8443/cb')).toBe(false)
    expect(redirectUriMatches(confidentialApp, 'http://localhost/cb', 'http://localhost:5123/cb')).toBe(false)
    expect(redirectUriMatches(confidentialApp, 'http://localhost/cb', 'http://localhost/cb')).toBe(true)
  })
})
