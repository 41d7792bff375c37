export type { TokenFileProviderOptions } from './token-file-provider'
export { createTokenFileProvider } from './token-file-provider'
export type { WorkloadIdentityCredentialOptions } from './workload-identity-credential'
export { ENV_FEDERATED_TOKEN_FILE, WorkloadIdentityCredential } from './workload-identity-credential'
