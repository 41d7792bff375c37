import type { CognitoIdentityClient, CognitoIdentityClientConfig } from '@aws-sdk/client-cognito-identity'
import { type AbortSignalLike, AzcredError, checkNumber, type FederatedTokenProvider, jwtExpiresAt, systemErrorCode, TokenRequestError } from '@azcred/core'

/** The developer-authenticated flow: your backend vouches for a user with AWS credentials. */
export interface CognitoDeveloperIdentity {
  /** The developer provider name configured on the pool, such as `login.contoso.app`. */
  providerName: string
  /** Your identifier for the user or workload. */
  userIdentifier: string
  /** Token lifetime in seconds, from 1 to 86 400 (Cognito's maximum; Entra accepts ≤ 1 day + 1 h). Default Cognito's. */
  tokenDurationSeconds?: number
}

/**
 * Keeps the Cognito identity id (`IdentityId`) between processes. Entra's federated identity
 * credential matches the token's subject, which is the identity id: without a store, every process
 * start creates a new unauthenticated identity and Entra refuses it (AADSTS700213).
 * @example
 * const identityIdStore = { get: () => readFile(file, 'utf8').catch(() => undefined), set: (identityId) => writeFile(file, identityId) }
 */
export interface CognitoIdentityIdStore {
  /** The stored identity id, or undefined (or null, or '') when none is stored yet. */
  get(): Promise<string | null | undefined> | string | null | undefined
  /** Keeps the identity id `GetId` (or the developer flow) returned. */
  set(identityId: string): Promise<void> | void
}

/** Options of {@link createCognitoTokenProvider}. */
export interface CognitoTokenProviderOptions {
  /** The identity pool, such as `us-east-1:0000…`; the Entra federated credential's audience. */
  identityPoolId: string
  /** AWS region. Default: the prefix of `identityPoolId`. */
  region?: string
  /**
   * The identity id to use, such as `us-east-1:1111…` (the subject of the Entra federated
   * credential). Default: the one in `identityIdStore`, else a new one from `GetId`.
   */
  identityId?: string | undefined
  /** Where the identity id is kept between processes; read before `GetId`, written after it. Default none (kept in memory only). */
  identityIdStore?: CognitoIdentityIdStore | undefined
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
  /**
   * Time allowed for each Cognito call and each `identityIdStore` call, ms, from 1 to 600 000.
   * Default 30 000. A store call that never settles ends with AZCRED_TIMEOUT and is dropped.
   */
  timeoutMs?: number
  /** A cached token is replaced when less than this is left, ms, from 0 to 3 600 000. Default 60 000. */
  refreshBeforeExpiryMs?: number
}

type Sdk = typeof import('@aws-sdk/client-cognito-identity')

/** The shared identity id lookup: its result, how many calls wait on it, and its stop switch. */
interface IdentityLookup {
  id: Promise<string>
  waiters: number
  controller: AbortController
  done?: boolean
}

const HINTS: Record<string, string> = {
  ResourceNotFoundException: 'check identityPoolId, region and the identity id (identityId / identityIdStore)',
  NotAuthorizedException: 'the pool refuses this identity: allow unauthenticated identities, or pass logins / developer',
  MissingAuthenticationTokenException: 'the developer flow needs AWS credentials: pass clientConfig.credentials or a signed client',
  AccessDeniedException: 'the AWS credentials lack cognito-identity:GetOpenIdTokenForDeveloperIdentity',
}

const IDENTITY_ID = /^[\w-]{1,40}:[\da-f-]{1,50}$/
const invalid = (message: string) => new AzcredError('AZCRED_CONFIG_INVALID', message)

// The name of a local (not server-sent) error, for a message: a system code (ECONNREFUSED) or a
// class-like name (TimeoutError). Never its message, nor the error itself as `cause`: a store's or
// SDK's error may quote a secret, a path or a URL.
const localName = (error: unknown): string => {
  const name = (error as { name?: unknown } | null | undefined)?.name
  return systemErrorCode(error) ?? (typeof name === 'string' && /^[A-Z][A-Za-z]{0,40}(Error|Exception)$/.test(name) ? name : 'Error')
}

/**
 * Runs `run` until it settles, `timeoutMs` passes (AZCRED_TIMEOUT, `slow` says what to do) or
 * `abortSignal` fires (AZCRED_ABORTED); the signal given to `run` is aborted then. It ends on time
 * even when `run` never settles. A failure of `run` itself goes through `failed`.
 */
function bounded<T>(
  run: (signal: AbortSignal) => PromiseLike<T> | T,
  what: string,
  failed: (error: unknown) => never,
  abortSignal: AbortSignalLike | undefined,
  timeoutMs?: number,
  slow?: string,
): Promise<T> {
  const controller = new AbortController()
  let stop: (error: AzcredError) => void = () => {}
  const stopped = new Promise<never>((_, reject) => {
    stop = reject
  })
  const end = (error: AzcredError) => {
    stop(error) // first, so this error wins the race against what the abort makes `run` throw
    controller.abort()
  }
  const onAbort = () => end(new AzcredError('AZCRED_ABORTED', `${what} was aborted by the caller (abortSignal)`))
  const timer = timeoutMs && setTimeout(() => end(new AzcredError('AZCRED_TIMEOUT', `${what} did not answer within ${timeoutMs} ms: ${slow}`)), timeoutMs)
  if (abortSignal?.aborted) onAbort()
  abortSignal?.addEventListener('abort', onAbort)
  return Promise.race([
    Promise.resolve()
      .then(() => run(controller.signal))
      .catch(failed),
    stopped,
  ]).finally(() => {
    clearTimeout(timer)
    abortSignal?.removeEventListener('abort', onAbort)
  })
}

/** What a failed Cognito call becomes: an `AzcredError` whose server strings are checked. */
function cognitoFailure(operation: string) {
  return (error: unknown): never => {
    const failure = error as { name?: unknown; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } }
    const status = failure?.$metadata?.httpStatusCode
    if (status === undefined) throw new AzcredError('AZCRED_NETWORK_ERROR', `could not reach AWS Cognito Identity for ${operation}: ${localName(error)}`)
    if (status > 299 && status < 400) {
      let target = 'an undisclosed target'
      try {
        target = new URL(failure.$response?.headers?.location ?? '').origin
      } catch {}
      throw new TokenRequestError(
        `AWS Cognito Identity answered ${operation} with HTTP ${status} redirecting to ${target.slice(0, 100)}; redirects are never followed: check region and clientConfig.endpoint`,
        { status },
        { retryable: false },
      )
    }
    // The error name comes from the server: shown only when it looks like one.
    const name = typeof failure.name === 'string' && /^\w{1,64}$/.test(failure.name) ? failure.name : 'UnknownError'
    const hint = HINTS[name] ?? 'see the AWS Cognito Identity error reference'
    throw new TokenRequestError(`AWS Cognito Identity refused ${operation} (HTTP ${status} ${name}): ${hint}`, { status, error: name })
  }
}

/**
 * A `FederatedTokenProvider` over an AWS Cognito identity pool, for Entra federated identity
 * credentials with issuer `https://cognito-identity.amazonaws.com`, audience = the pool id and
 * subject = the identity id. Basic flow: the identity id from `identityId`, else from
 * `identityIdStore`, else from `GetId` (then written to the store), then `GetOpenIdToken`;
 * developer flow: `GetOpenIdTokenForDeveloperIdentity` (with the known identity id, if any). Tokens
 * are reused until a minute before they expire. The AWS SDK is imported on first use, so importing
 * this package stays cheap; a client it creates does not follow redirects. Create one provider per
 * pool; hold several in a `TokenManager`.
 *
 * Cognito tokens always carry the pool id as `aud`; the audience a credential asks for is ignored.
 * @throws AzcredError AZCRED_CONFIG_INVALID at once for a malformed pool or identity id, an
 * endpoint with `user:password@`, or a number option out of range; from `getFederatedToken`:
 * AZCRED_CONFIG_INVALID when the store fails (naming only the error's class or system code) or
 * holds anything but an identity id; AZCRED_TOKEN_REQUEST_FAILED when Cognito refuses (with the AWS
 * error name and a hint) or redirects; AZCRED_RESPONSE_INVALID; AZCRED_NETWORK_ERROR;
 * AZCRED_TIMEOUT when a Cognito or store call takes longer than `timeoutMs`; AZCRED_ABORTED when
 * the caller's `abortSignal` fires (a store call that never settles cannot hang it).
 * @example
 * const provider = createCognitoTokenProvider({ identityPoolId: 'us-east-1:…', identityIdStore })
 */
export function createCognitoTokenProvider(options: CognitoTokenProviderOptions): FederatedTokenProvider {
  const { identityPoolId, identityIdStore: store, developer, logins, timeoutMs = 30_000, refreshBeforeExpiryMs: refreshBeforeMs = 60_000 } = options
  if (typeof identityPoolId !== 'string' || !IDENTITY_ID.test(identityPoolId)) {
    throw invalid('identityPoolId is missing or malformed: pass the pool id, such as us-east-1:0000aaaa-…')
  }
  if (options.identityId !== undefined && !IDENTITY_ID.test(String(options.identityId))) {
    throw invalid('identityId is malformed: pass a Cognito identity id, such as us-east-1:1111bbbb-…')
  }
  checkNumber(timeoutMs, 'timeoutMs', 600_000, 1)
  checkNumber(refreshBeforeMs, 'refreshBeforeExpiryMs', 3_600_000, 0)
  checkNumber(developer?.tokenDurationSeconds, 'developer.tokenDurationSeconds', 86_400, 1)
  const endpoint = options.clientConfig?.endpoint
  if (typeof endpoint === 'string' && /^[^/]*\/\/[^/@]*@/.test(endpoint)) throw invalid('clientConfig.endpoint must not carry user:password@')
  const region = options.region ?? identityPoolId.split(':')[0]
  let sdk: Promise<Sdk> | undefined
  let client: CognitoIdentityClient | undefined = options.client
  // One identity id lookup (store, else GetId, then store) per provider, shared by concurrent calls so
  // they cannot create two identities; dropped when it fails or its last waiter aborts.
  let lookup: IdentityLookup | undefined
  // An identity GetId created whose store.set() failed: used again rather than creating another.
  let created: string | undefined
  let cached: { token: string; expiresAt: number } | undefined

  const useStore = <T>(operation: 'get' | 'set', action: () => T, abortSignal: AbortSignalLike | undefined): Promise<Awaited<T>> =>
    bounded(
      action as () => Awaited<T>,
      `identityIdStore.${operation}()`,
      (error) => {
        throw new AzcredError('AZCRED_CONFIG_INVALID', `identityIdStore.${operation}() failed (${localName(error)}): check the store it reads and writes`)
      },
      abortSignal,
      timeoutMs,
      'check the store it reads and writes, or raise timeoutMs',
    )
  const checkedIdentityId = (value: unknown, from: string): string => {
    if (typeof value === 'string' && IDENTITY_ID.test(value)) return value
    throw new AzcredError(from === 'GetId' ? 'AZCRED_RESPONSE_INVALID' : 'AZCRED_CONFIG_INVALID', `${from} gave no valid Cognito identity id`)
  }
  const known = async (abortSignal: AbortSignalLike | undefined): Promise<string | undefined> => {
    if (options.identityId !== undefined) return options.identityId
    const stored = store === undefined ? undefined : await useStore('get', () => store.get(), abortSignal)
    return stored === undefined || stored === null || stored === '' ? undefined : checkedIdentityId(stored, 'identityIdStore')
  }
  const remember = async (identityId: string, abortSignal: AbortSignalLike | undefined): Promise<void> => {
    if (options.identityId === undefined && store !== undefined) await useStore('set', () => store.set(identityId), abortSignal)
  }

  const fetchToken = async (abortSignal: AbortSignalLike | undefined): Promise<string> => {
    sdk ??= import('@aws-sdk/client-cognito-identity')
    const aws = await sdk
    // `requestInit` reaches the fetch-based handler (browsers, edge runtimes) only; Node's handler never follows redirects.
    client ??= new aws.CognitoIdentityClient({ region, requestHandler: { requestInit: () => ({ redirect: 'manual' }) }, ...options.clientConfig })
    const ready = client
    const send = <T>(operation: string, run: (signal: AbortSignal) => Promise<T>, signal: AbortSignalLike | undefined) =>
      bounded(run, `AWS Cognito Identity ${operation}`, cognitoFailure(operation), signal, timeoutMs, 'raise timeoutMs or check the endpoint')
    if (developer !== undefined) {
      const { providerName, userIdentifier, tokenDurationSeconds } = developer
      const identityId = await known(abortSignal)
      const output = await send(
        'GetOpenIdTokenForDeveloperIdentity',
        (signal) =>
          ready.send(
            new aws.GetOpenIdTokenForDeveloperIdentityCommand({
              IdentityPoolId: identityPoolId,
              IdentityId: identityId,
              Logins: { [providerName]: userIdentifier },
              TokenDuration: tokenDurationSeconds,
            }),
            { abortSignal: signal },
          ),
        abortSignal,
      )
      if (identityId === undefined && typeof output.IdentityId === 'string' && IDENTITY_ID.test(output.IdentityId))
        await remember(output.IdentityId, abortSignal)
      return output.Token ?? ''
    }
    if (lookup === undefined) {
      const controller = new AbortController()
      const entry: IdentityLookup = {
        waiters: 0,
        controller,
        id: (async () => {
          const found = await known(controller.signal)
          if (found !== undefined) return found
          created ??= checkedIdentityId(
            (
              await send(
                'GetId',
                (signal) =>
                  ready.send(new aws.GetIdCommand({ IdentityPoolId: identityPoolId, AccountId: options.accountId, Logins: logins }), { abortSignal: signal }),
                controller.signal,
              )
            ).IdentityId,
            'GetId',
          )
          await remember(created, controller.signal)
          return created
        })(),
      }
      entry.id.then(
        () => {
          entry.done = true
        },
        () => {
          if (lookup === entry) lookup = undefined
        },
      )
      lookup = entry
    }
    const entry = lookup
    entry.waiters += 1
    let identityId: string
    try {
      identityId = await bounded(
        () => entry.id,
        'the Cognito identity id lookup',
        (error) => {
          throw error
        },
        abortSignal,
      )
    } finally {
      entry.waiters -= 1
      // Its last waiter gave up: stop the lookup, and let the next call start a new one.
      if (entry.waiters === 0 && !entry.done && lookup === entry && abortSignal?.aborted) {
        lookup = undefined
        entry.controller.abort()
      }
    }
    const output = await send(
      'GetOpenIdToken',
      (signal) => ready.send(new aws.GetOpenIdTokenCommand({ IdentityId: identityId, Logins: logins }), { abortSignal: signal }),
      abortSignal,
    )
    return output.Token ?? ''
  }

  return {
    name: 'aws-cognito',
    async getFederatedToken({ forceRefresh, abortSignal }) {
      if (!forceRefresh && cached !== undefined && cached.expiresAt - refreshBeforeMs > Date.now()) return cached.token
      const token = await fetchToken(abortSignal)
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new AzcredError('AZCRED_RESPONSE_INVALID', 'AWS Cognito Identity answered without a JWT Token')
      cached = { token, expiresAt: jwtExpiresAt(token) }
      return token
    },
  }
}
