import { userAssignedNotSupported } from './managed-identity-options'
import { type ManagedIdentityHost, requestManagedIdentityToken } from './managed-identity-request'

/** `MSI_ENDPOINT`: Cloud Shell's and Azure Machine Learning's local token endpoint. */
export const ENV_MSI_ENDPOINT = 'MSI_ENDPOINT'

/** Cloud Shell: `POST {MSI_ENDPOINT}` with a `resource` form field and `Metadata: true`; the signed-in user's identity only. */
export function createCloudShellHost(endpoint: string): ManagedIdentityHost {
  return {
    name: 'Cloud Shell',
    fetchToken(request) {
      if (request.identity !== undefined) return Promise.reject(userAssignedNotSupported('Cloud Shell', request.identity, 'only the signed-in user'))
      return requestManagedIdentityToken(
        'Cloud Shell',
        {
          url: endpoint,
          method: 'POST',
          headers: { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ resource: request.resource }).toString(),
        },
        request,
      )
    },
  }
}
