import { afterEach, describe, expect, it, vi } from 'vitest'
import { hostEnvironment as environment } from './__fixtures__/host-environment'
import { detectManagedIdentitySource } from './managed-identity-source'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('detectManagedIdentitySource', () => {
  it.each([
    [
      'workload-identity',
      { AZURE_FEDERATED_TOKEN_FILE: '/var/run/token', AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', IDENTITY_ENDPOINT: 'e', IDENTITY_HEADER: 'h' },
    ],
    ['service-fabric', { IDENTITY_ENDPOINT: 'https://10.0.0.4:2377/x', IDENTITY_HEADER: 'h', IDENTITY_SERVER_THUMBPRINT: 'AB' }],
    ['app-service', { IDENTITY_ENDPOINT: 'http://127.0.0.1:41741/msi/token', IDENTITY_HEADER: 'h', MSI_ENDPOINT: 'm', MSI_SECRET: 's' }],
    ['azure-ml', { MSI_ENDPOINT: 'http://127.0.0.1:46808/MSI/auth', MSI_SECRET: 's' }],
    ['cloud-shell', { MSI_ENDPOINT: 'http://localhost:50342/oauth2/token' }],
    ['azure-arc', { IDENTITY_ENDPOINT: 'http://localhost:40342/metadata/identity/oauth2/token', IMDS_ENDPOINT: 'http://localhost:40342' }],
    ['imds', { IMDS_ENDPOINT: 'http://127.0.0.1:9' }],
    ['imds', {}],
  ])('finds %s, in Microsoft order', (expected, values) => {
    environment(values)
    expect(detectManagedIdentitySource({ checkArcAgent: false }).name).toBe(expected)
  })

  it('explains by variable names, never values', () => {
    environment({ IDENTITY_ENDPOINT: 'http://127.0.0.1:41741/msi/token', IDENTITY_HEADER: 'platform-secret-header-value' })
    const source = detectManagedIdentitySource({ checkArcAgent: false })
    expect(source).toEqual({
      name: 'app-service',
      reason: 'App Service, Functions or Container Apps: IDENTITY_ENDPOINT and IDENTITY_HEADER are set',
      variables: ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER'],
    })
    expect(JSON.stringify(source)).not.toContain('platform-secret-header-value')
    expect(JSON.stringify(source)).not.toContain('41741')
  })

  it('uses workload identity only with a client id, from options or AZURE_CLIENT_ID', () => {
    environment({ AZURE_FEDERATED_TOKEN_FILE: '/var/run/token', AZURE_TENANT_ID: 't' })
    expect(detectManagedIdentitySource({ checkArcAgent: false }).name).toBe('imds')
    expect(detectManagedIdentitySource({ checkArcAgent: false, clientId: 'c' })).toMatchObject({
      name: 'workload-identity',
      variables: ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TENANT_ID'],
    })
  })

  it('names the IMDS override that decided', () => {
    environment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:1', IMDS_ENDPOINT: 'http://127.0.0.1:2' })
    expect(detectManagedIdentitySource({ checkArcAgent: false })).toMatchObject({ name: 'imds', variables: ['AZURE_POD_IDENTITY_AUTHORITY_HOST'] })
  })
})
