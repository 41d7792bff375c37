import { userAssignedNotSupported } from './managed-identity-options'
import { type ManagedIdentityHost, requestManagedIdentityToken, withQuery } from './managed-identity-request'

/** `MSI_SECRET`: the secret Azure Machine Learning compute expects back in the `secret` header. */
export const ENV_MSI_SECRET = 'MSI_SECRET'

/** Azure Machine Learning: `GET {MSI_ENDPOINT}?api-version=2017-09-01` with `secret`; user-assigned by `clientid` only. */
export function createAzureMlHost(endpoint: string, secret: string): ManagedIdentityHost {
  return {
    name: 'Azure Machine Learning',
    fetchToken(request) {
      const { identity } = request
      if (identity !== undefined && identity.kind !== 'clientId') {
        return Promise.reject(userAssignedNotSupported('Azure Machine Learning', identity, 'user-assigned identities by clientId only'))
      }
      const url = withQuery(endpoint, { 'api-version': '2017-09-01', resource: request.resource, clientid: identity?.value })
      return requestManagedIdentityToken('Azure Machine Learning', { url, headers: { secret, Metadata: 'true' } }, request)
    },
  }
}
