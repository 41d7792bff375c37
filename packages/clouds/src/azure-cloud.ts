/** Everything azcred needs to know about one Azure cloud. */
export interface AzureCloud {
  /** Short name: `AzurePublicCloud`, `AzureUSGovernment`, `AzureChinaCloud`, `AzureGermanCloud`, or yours. */
  readonly name: string
  /** Entra ID host, such as `https://login.microsoftonline.com`. */
  readonly authorityHost: string
  /** Azure Resource Manager endpoint. */
  readonly resourceManagerEndpoint: string
  /** Scope for Resource Manager tokens. */
  readonly resourceManagerScope: string
  /** Microsoft Graph endpoint. */
  readonly graphEndpoint: string
  /** Scope for Microsoft Graph app-only tokens. */
  readonly graphScope: string
  /** Storage DNS suffix: `{account}.blob.{suffix}`. */
  readonly storageSuffix: string
  /** Storage scope. */
  readonly storageScope: string
  /** Key Vault DNS suffix: `{vault}.{suffix}`. */
  readonly keyVaultSuffix: string
  /** Key Vault scope. */
  readonly keyVaultScope: string
  /** Azure SQL DNS suffix: `{server}.{suffix}`. */
  readonly sqlServerSuffix: string
  /** Azure SQL scope. */
  readonly sqlScope: string
  /** Audience Entra expects on federated (workload identity) tokens in this cloud. */
  readonly tokenExchangeAudience: string
  /** True for a cloud that no longer accepts sign-ins (Azure Germany closed in October 2021). */
  readonly retired?: boolean
}
