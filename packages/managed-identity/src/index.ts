// `.` for runtimes without the `node` export condition: fetch only. `index.node.ts` (the `node`
// condition) has the same exports and also the hosts that need Node.
export { detectManagedIdentitySource, ManagedIdentityCredential } from './managed-identity-agnostic'
export { ENV_IDENTITY_ENDPOINT, ENV_IDENTITY_HEADER } from './managed-identity-app-service'
export { ENV_DEFAULT_IDENTITY_CLIENT_ID, ENV_MSI_SECRET } from './managed-identity-azure-ml'
export { ENV_MSI_ENDPOINT } from './managed-identity-cloud-shell'
export { ENV_IDENTITY_SERVER_THUMBPRINT } from './managed-identity-hosts'
export { DEFAULT_IMDS_ENDPOINT, ENV_IMDS_ENDPOINT, ENV_POD_IDENTITY_AUTHORITY_HOST, PROBE_NEGATIVE_TTL_MS } from './managed-identity-imds'
export type { ManagedIdentityCredentialOptions, ManagedIdentityRetryOptions } from './managed-identity-options'
export type { DetectManagedIdentitySourceOptions, ManagedIdentitySource, ManagedIdentitySourceName } from './managed-identity-request'
