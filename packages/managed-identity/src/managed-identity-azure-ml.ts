import { readEnv } from '@azcred/core'
import { ENV_MSI_ENDPOINT } from './managed-identity-cloud-shell'
import { userAssignedNotSupported } from './managed-identity-options'
import {
  endpointFromEnv,
  type ManagedIdentityHost,
  type ManagedIdentityHostEntry,
  requestManagedIdentityToken,
  whenSet,
  withQuery,
} from './managed-identity-request'

/** `MSI_SECRET`: the secret Azure Machine Learning compute expects back in the `secret` header. */
export const ENV_MSI_SECRET = 'MSI_SECRET'
/** `DEFAULT_IDENTITY_CLIENT_ID`: on Azure Machine Learning compute, the client id of its system-assigned identity. */
export const ENV_DEFAULT_IDENTITY_CLIENT_ID = 'DEFAULT_IDENTITY_CLIENT_ID'

/**
 * Azure Machine Learning: `GET {MSI_ENDPOINT}?api-version=2017-09-01` with `secret`; user-assigned by
 * `clientid` only. A system-assigned request sends `clientid=<DEFAULT_IDENTITY_CLIENT_ID>` when the
 * compute sets it: without it the endpoint answers with the compute user's token, not the identity's.
 */
export function createAzureMlHost(endpoint: string, secret: string, defaultClientId?: string): ManagedIdentityHost {
  return {
    name: 'Azure Machine Learning',
    fetchToken(request) {
      const { identity } = request
      if (identity !== undefined && identity.kind !== 'clientId') {
        return Promise.reject(userAssignedNotSupported('Azure Machine Learning', identity, 'user-assigned identities by clientId only'))
      }
      const url = withQuery(endpoint, { 'api-version': '2017-09-01', resource: request.resource, clientid: identity?.value ?? defaultClientId })
      return requestManagedIdentityToken('Azure Machine Learning', { url, headers: { secret, Metadata: 'true' } }, request)
    },
  }
}

/** Azure Machine Learning's row of the host table. */
export const AZURE_ML_HOST: ManagedIdentityHostEntry = {
  name: 'azure-ml',
  detect: whenSet([ENV_MSI_ENDPOINT, ENV_MSI_SECRET], () => `Azure Machine Learning: ${ENV_MSI_ENDPOINT} and ${ENV_MSI_SECRET} are set`),
  create: () => createAzureMlHost(endpointFromEnv(ENV_MSI_ENDPOINT), readEnv(ENV_MSI_SECRET) as string, readEnv(ENV_DEFAULT_IDENTITY_CLIENT_ID)),
}
