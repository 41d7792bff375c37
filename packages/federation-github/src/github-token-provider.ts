import {
  AzcredError,
  checkNumber,
  DEFAULT_TOKEN_EXCHANGE_AUDIENCE,
  type FederatedTokenProvider,
  type FetchLike,
  isLoopbackHostname,
  jwtExpiresAt,
  readEnv,
  readJwtClaims,
  sendJsonRequest,
  USER_AGENT,
} from '@azcred/core'

/** `ACTIONS_ID_TOKEN_REQUEST_URL`, set by the runner when the job has `permissions: id-token: write`. */
export const ENV_ACTIONS_ID_TOKEN_REQUEST_URL = 'ACTIONS_ID_TOKEN_REQUEST_URL'
/** `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, the bearer token for that URL. */
export const ENV_ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'

/** Options of {@link createGitHubTokenProvider}. */
export interface GitHubTokenProviderOptions {
  /** Default `ACTIONS_ID_TOKEN_REQUEST_URL`. */
  requestUrl?: string
  /** Default `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  requestToken?: string
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Time allowed for one request, ms, from 1 to 600 000. Default 30 000. */
  timeoutMs?: number
  /** A cached token is replaced when less than this is left, ms, from 0 to 3 600 000. Default 60 000. */
  refreshBeforeExpiryMs?: number
  /** Accept an `http:` request URL on loopback (a local stand-in). Default false. */
  allowInsecureConnection?: boolean
}

const MISSING_PERMISSION = `${ENV_ACTIONS_ID_TOKEN_REQUEST_URL} and ${ENV_ACTIONS_ID_TOKEN_REQUEST_TOKEN} are not set: this is not a GitHub Actions job, or the job lacks "permissions: id-token: write"`

const invalid = (message: string) => new AzcredError('AZCRED_CONFIG_INVALID', message)

// Messages name the variable or option, never its value.
function checkedUrl(value: string, allowInsecure: boolean): URL {
  const name = `${ENV_ACTIONS_ID_TOKEN_REQUEST_URL} (requestUrl)`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(`${name} is not an absolute URL`)
  }
  if (url.username !== '' || url.password !== '') throw invalid(`${name} must not carry user:password@: the request token is the credential`)
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && allowInsecure && isLoopbackHostname(url.hostname))
  if (!secure) throw invalid(`${name} must use https: (the request token must not travel in clear text)`)
  return url
}

/**
 * A `FederatedTokenProvider` for GitHub Actions: asks the runner's ID-token endpoint for a JWT with
 * the requested audience (`api://AzureADTokenExchange` by default, the sovereign variants through
 * the credential's cloud), and reuses it until shortly before its `exp`.
 *
 * The request never follows a redirect, so the request token goes to the configured URL only.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID at once for a `timeoutMs` or `refreshBeforeExpiryMs`
 * out of range. From `getFederatedToken`: AZCRED_SOURCE_UNAVAILABLE when the runner variables are
 * absent (the message says the job needs `permissions: id-token: write`); AZCRED_CONFIG_INVALID
 * for a non-https URL, one with `user:password@`, or a request token that cannot be a header
 * value; AZCRED_TOKEN_REQUEST_FAILED for a refusal or a redirect; AZCRED_RESPONSE_INVALID when the
 * answer holds no JWT; and the transport codes.
 * @example
 * const credential = new ClientAssertionCredential(tenantId, clientId, createGitHubTokenProvider())
 */
export function createGitHubTokenProvider(options: GitHubTokenProviderOptions = {}): FederatedTokenProvider {
  const { refreshBeforeExpiryMs: refreshBeforeMs = 60_000, timeoutMs } = options
  checkNumber(timeoutMs, 'timeoutMs', 600_000, 1)
  checkNumber(refreshBeforeMs, 'refreshBeforeExpiryMs', 3_600_000, 0)
  const cache = new Map<string, { token: string; expiresAt: number }>()
  return {
    name: 'github-actions',
    async getFederatedToken({ audience = DEFAULT_TOKEN_EXCHANGE_AUDIENCE, abortSignal, forceRefresh }) {
      const cached = cache.get(audience)
      if (!forceRefresh && cached !== undefined && cached.expiresAt - refreshBeforeMs > Date.now()) return cached.token
      const requestUrl = options.requestUrl ?? readEnv(ENV_ACTIONS_ID_TOKEN_REQUEST_URL)
      const requestToken = options.requestToken ?? readEnv(ENV_ACTIONS_ID_TOKEN_REQUEST_TOKEN)
      if (requestUrl === undefined || requestToken === undefined) throw new AzcredError('AZCRED_SOURCE_UNAVAILABLE', MISSING_PERMISSION)
      const url = checkedUrl(requestUrl, options.allowInsecureConnection === true)
      // A CR, LF or other control character would make fetch throw a TypeError quoting the header.
      if (!/^[\x21-\x7e]+$/.test(requestToken)) throw invalid(`${ENV_ACTIONS_ID_TOKEN_REQUEST_TOKEN} (requestToken) is not a valid bearer token`)
      url.searchParams.set('audience', audience)
      const response = await sendJsonRequest(
        {
          url: url.toString(),
          headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json', 'user-agent': USER_AGENT },
          endpointName: 'the GitHub Actions ID-token endpoint',
        },
        { fetch: options.fetch, timeoutMs, abortSignal },
      )
      const token = response.body.value
      if (typeof token !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
        throw new AzcredError('AZCRED_RESPONSE_INVALID', 'the GitHub Actions ID-token endpoint answered without a JWT "value"')
      }
      cache.set(audience, { token, expiresAt: jwtExpiresAt(token) })
      return token
    },
  }
}

/** The claims of a GitHub token that a federated identity credential must match. */
export interface GitHubTokenSubject {
  issuer: string
  subject: string
  audience: string
}

/**
 * Fetches a token like the provider would and returns only its issuer, subject and audience (never
 * the token), to copy into the app's federated identity credential when Entra answers AADSTS700213.
 * @example console.log(await describeGitHubToken())
 */
export async function describeGitHubToken(options: GitHubTokenProviderOptions & { audience?: string } = {}): Promise<GitHubTokenSubject> {
  const token = await createGitHubTokenProvider(options).getFederatedToken({ audience: options.audience ?? DEFAULT_TOKEN_EXCHANGE_AUDIENCE })
  const claims = readJwtClaims(token) ?? {}
  return { issuer: String(claims.iss), subject: String(claims.sub), audience: String(Array.isArray(claims.aud) ? claims.aud.join(',') : claims.aud) }
}
