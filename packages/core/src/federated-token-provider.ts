import type { AbortSignalLike } from './token-credential'

/**
 * The audience Entra ID expects on federated tokens in the public cloud.
 * @public
 */
export const DEFAULT_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'

/**
 * What a provider is asked for.
 * @public
 */
export interface FederatedTokenRequest {
  /** The `aud` the external token must carry, matching the app's federated identity credential. */
  audience: string
  /** Ends the wait; a provider should pass it to any request it makes. */
  abortSignal?: AbortSignalLike
  /** Entra refused the previous token as expired (AADSTS700024): do not return a cached one. */
  forceRefresh?: boolean
}

/**
 * Supplies short-lived JWTs from an external identity provider (GitHub Actions, AWS Cognito,
 * a Kubernetes token file, your own) that Entra ID exchanges for access tokens through a
 * federated identity credential.
 *
 * A provider returns the raw JWT. It may cache it, but must not return a token about to expire:
 * Entra refuses expired assertions with AADSTS700024.
 *
 * @example
 * const fromEnvironment: FederatedTokenProvider = {
 *   name: 'environment',
 *   async getFederatedToken() {
 *     const token = process.env.MY_OIDC_TOKEN
 *     if (!token) throw new AzcredError('AZCRED_SOURCE_UNAVAILABLE', 'MY_OIDC_TOKEN is not set')
 *     return token
 *   },
 * }
 * @public
 */
export interface FederatedTokenProvider {
  /** A short name used in error messages and events, such as `github-actions`. */
  readonly name?: string
  /** Returns a JWT whose `aud` is `request.audience`. */
  getFederatedToken(request: FederatedTokenRequest): Promise<string>
}
