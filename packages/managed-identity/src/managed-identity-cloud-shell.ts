import { userAssignedNotSupported } from './managed-identity-options'
import { endpointFromEnv, type ManagedIdentityHost, type ManagedIdentityHostEntry, requestManagedIdentityToken, whenSet } from './managed-identity-request'

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

/** Cloud Shell's row of the host table: `MSI_ENDPOINT` without `MSI_SECRET` (Azure ML's row comes first). */
export const CLOUD_SHELL_HOST: ManagedIdentityHostEntry = {
  name: 'cloud-shell',
  detect: whenSet([ENV_MSI_ENDPOINT], () => `Cloud Shell: ${ENV_MSI_ENDPOINT} is set without MSI_SECRET`),
  create: () => createCloudShellHost(endpointFromEnv(ENV_MSI_ENDPOINT)),
}
