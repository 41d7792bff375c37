import type { CognitoIdentityClient, CognitoIdentityClientConfig } from '@aws-sdk/client-cognito-identity'
import { AzcredError, type FederatedTokenProvider, jwtExpiresAt, TokenRequestError } from '@azcred/core'

/** The developer-authenticated flow: your backend vouches for a user with AWS credentials. */
export interface CognitoDeveloperIdentity {
  /** The developer provider name configured on the pool, such as `login.contoso.app`. */
  providerName: string
  /** Your identifier for the user or workload. */
  userIdentifier: string
  /** Token lifetime in seconds (Cognito allows up to 24 h; Entra accepts ≤ 1 day + 1 h). Default Cognito's. */
  tokenDurationSeconds?: number
}

/** Options of {@link createCognitoTokenProvider}. */
export interface CognitoTokenProviderOptions {
  /** The identity pool, such as `us-east-1:0000…`; the Entra federated credential's audience. */
  identityPoolId: string
  /** AWS region. Default: the prefix of `identityPoolId`. */
  region?: string
  /** Logins for an authenticated identity (provider name → token). Default none (unauthenticated). */
  logins?: Record<string, string>
  /** AWS account id, passed to `GetId`. */
  accountId?: string
  /** Use the developer-authenticated flow (`GetOpenIdTokenForDeveloperIdentity`, SigV4-signed). */
  developer?: CognitoDeveloperIdentity
  /** A client you created; otherwise one is created on first use (the SDK is imported only then). */
  client?: CognitoIdentityClient
  /** Settings for the client created on first use (`endpoint`, `credentials`, …). */
  clientConfig?: CognitoIdentityClientConfig
  /** A cached token is replaced when less than this is left, ms. Default 60 000. */
  refreshBeforeExpiryMs?: number
}

type Sdk = typeof import('@aws-sdk/client-cognito-identity')

const HINTS: Record<string, string> = {
  ResourceNotFoundException: 'check identityPoolId and region',
  NotAuthorizedException: 'the pool refuses this identity: allow unauthenticated identities, or pass logins / developer',
  MissingAuthenticationTokenException: 'the developer flow needs AWS credentials: pass clientConfig.credentials or a signed client',
  AccessDeniedException: 'the AWS credentials lack cognito-identity:GetOpenIdTokenForDeveloperIdentity',
}

async function call<T>(send: () => Promise<T>, operation: string): Promise<T> {
  try {
    return await send()
  } catch (error) {
    const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } }
    const status = failure.$metadata?.httpStatusCode
    if (status === undefined) {
      throw new AzcredError('AZCRED_NETWORK_ERROR', `could not reach AWS Cognito Identity for ${operation}: ${failure.name ?? 'unknown error'}`, {
        cause: error,
      })
    }
    const hint = HINTS[failure.name ?? ''] ?? 'see the AWS Cognito Identity error reference'
    throw new TokenRequestError(`AWS Cognito Identity refused ${operation} (HTTP ${status} ${failure.name}): ${hint}`, { status, error: failure.name })
  }
}

/**
 * A `FederatedTokenProvider` over an AWS Cognito identity pool, for Entra federated identity
 * credentials with issuer `https://cognito-identity.amazonaws.com`, audience = the pool id and
 * subject = the identity id. Basic flow: `GetId` (identity id cached) then `GetOpenIdToken`;
 * developer flow: `GetOpenIdTokenForDeveloperIdentity`. Tokens are reused until a minute before
 * they expire. The AWS SDK is imported on first use, so importing this package stays cheap. Create
 * one provider per pool; hold several in a `TokenManager`.
 *
 * Cognito tokens always carry the pool id as `aud`; the audience a credential asks for is ignored.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a missing pool id; AZCRED_TOKEN_REQUEST_FAILED when
 * Cognito refuses (with the AWS error name and a hint); AZCRED_NETWORK_ERROR.
 * @example
 * const provider = createCognitoTokenProvider({ identityPoolId: 'us-east-1:…' })
 */
export function createCognitoTokenProvider(options: CognitoTokenProviderOptions): FederatedTokenProvider {
  if (typeof options.identityPoolId !== 'string' || !options.identityPoolId.includes(':')) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'identityPoolId is missing or malformed: pass the pool id, such as us-east-1:0000aaaa-…')
  }
  const region = options.region ?? options.identityPoolId.split(':')[0]
  const refreshBeforeMs = options.refreshBeforeExpiryMs ?? 60_000
  let sdk: Promise<Sdk> | undefined
  let client: CognitoIdentityClient | undefined = options.client
  let identityId: string | undefined
  let cached: { token: string; expiresAt: number } | undefined

  const fetchToken = async (): Promise<string> => {
    sdk ??= import('@aws-sdk/client-cognito-identity')
    const aws = await sdk
    client ??= new aws.CognitoIdentityClient({ region, ...options.clientConfig })
    if (options.developer !== undefined) {
      const { providerName, userIdentifier, tokenDurationSeconds } = options.developer
      const signed = client
      const output = await call(
        () =>
          signed.send(
            new aws.GetOpenIdTokenForDeveloperIdentityCommand({
              IdentityPoolId: options.identityPoolId,
              Logins: { [providerName]: userIdentifier },
              TokenDuration: tokenDurationSeconds,
            }),
          ),
        'GetOpenIdTokenForDeveloperIdentity',
      )
      return output.Token ?? ''
    }
    const ready = client
    identityId ??= (
      await call(
        () => ready.send(new aws.GetIdCommand({ IdentityPoolId: options.identityPoolId, AccountId: options.accountId, Logins: options.logins })),
        'GetId',
      )
    ).IdentityId
    const known = identityId
    const output = await call(() => ready.send(new aws.GetOpenIdTokenCommand({ IdentityId: known, Logins: options.logins })), 'GetOpenIdToken')
    return output.Token ?? ''
  }

  return {
    name: 'aws-cognito',
    async getFederatedToken({ forceRefresh }) {
      if (!forceRefresh && cached !== undefined && cached.expiresAt - refreshBeforeMs > Date.now()) return cached.token
      const token = await fetchToken()
      if (token === '') throw new AzcredError('AZCRED_RESPONSE_INVALID', 'AWS Cognito Identity answered without a Token')
      cached = { token, expiresAt: jwtExpiresAt(token) }
      return token
    },
  }
}
