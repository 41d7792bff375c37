import { readEnv } from '@azcred/core'
import {
  endpointFromEnv,
  identityParameter,
  type ManagedIdentityHost,
  type ManagedIdentityHostEntry,
  requestManagedIdentityToken,
  whenSet,
  withQuery,
} from './managed-identity-request'

/** `IDENTITY_ENDPOINT`: the local token endpoint of App Service, Functions, Container Apps, Service Fabric and Arc. */
export const ENV_IDENTITY_ENDPOINT = 'IDENTITY_ENDPOINT'
/** `IDENTITY_HEADER`: the secret App Service and Service Fabric expect back (rotated by the platform). */
export const ENV_IDENTITY_HEADER = 'IDENTITY_HEADER'

/**
 * App Service, Functions and Container Apps: `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01` with
 * `X-IDENTITY-HEADER`; user-assigned by `client_id`, `principal_id` or `mi_res_id`.
 */
export function createAppServiceHost(endpoint: string, identityHeader: string): ManagedIdentityHost {
  return {
    name: 'App Service',
    fetchToken(request) {
      const url = withQuery(endpoint, {
        'api-version': '2019-08-01',
        resource: request.resource,
        ...identityParameter(request.identity, ['client_id', 'principal_id', 'mi_res_id']),
      })
      return requestManagedIdentityToken('App Service', { url, headers: { 'X-IDENTITY-HEADER': identityHeader } }, request)
    },
  }
}

/** App Service's row of the host table (also Functions and Container Apps). */
export const APP_SERVICE_HOST: ManagedIdentityHostEntry = {
  name: 'app-service',
  detect: whenSet([ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER], (variables) => `App Service, Functions or Container Apps: ${variables.join(' and ')} are set`),
  create: () => createAppServiceHost(endpointFromEnv(ENV_IDENTITY_ENDPOINT), readEnv(ENV_IDENTITY_HEADER) as string),
}
