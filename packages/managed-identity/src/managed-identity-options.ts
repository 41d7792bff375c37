import { AzcredError, checkNumber, type FetchLike, type RetryOptions, type RetryPolicyOptions, type TokenCache, type TokenLifecycleOptions } from '@azcred/core'

/**
 * Retry settings for managed identity endpoints, which also retry 404 and 410 (host updating).
 * Defaults: 10 attempts (`maxAttempts`), 1 s doubling to 10 s (`baseDelayMs`, `maxDelayMs`), and a
 * caller's budget (`maxElapsedMs`) of 15 s, except while the endpoint answers 410: then attempts go on
 * every `goneDelayMs` for up to 75 s from the first one (Microsoft asks to retry a 410 for at least
 * 70 s during an IMDS upgrade). A `maxElapsedMs` you set is the budget for both. Background refreshes
 * of a still-valid token make one attempt (plus the 410 retries). Every request, 410 retries
 * included, counts against `maxAttempts`.
 */
export interface ManagedIdentityRetryOptions extends RetryOptions {
  /** Least wait after a 410 (the endpoint is being upgraded), ms (0 to 86 400 000). Default 10 000. */
  goneDelayMs?: number
}

/** Options of `ManagedIdentityCredential`. Give at most one of `clientId`, `objectId`, `resourceId`. */
export interface ManagedIdentityCredentialOptions extends Omit<TokenLifecycleOptions, 'retry'> {
  /** Client (application) id of a user-assigned identity. Default: the system-assigned identity. */
  clientId?: string
  /** Object (principal) id of a user-assigned identity. */
  objectId?: string
  /** Azure resource id of a user-assigned identity (`/subscriptions/…/userAssignedIdentities/name`). */
  resourceId?: string
  /**
   * IMDS base URL. Default `AZURE_POD_IDENTITY_AUTHORITY_HOST`, else `IMDS_ENDPOINT`, else
   * `http://169.254.169.254`. Other hosts take their endpoint from the variables the platform sets.
   */
  endpoint?: string
  /**
   * Before the first IMDS token request, check quickly that IMDS is there: a headerless request must
   * be answered within `timeoutMs` (ms, 1 to 600 000, default 1 000) the way IMDS answers it (HTTP 400 with a JSON
   * `error`). "Not here" becomes `AZCRED_SOURCE_UNAVAILABLE` instead of a retried network error, and
   * is remembered for 60 s, then probed again; "here" is remembered for the process. Skipped when
   * `AZURE_POD_IDENTITY_AUTHORITY_HOST` names the endpoint (as the official libraries do). Meant for
   * credential chains. Default false.
   */
  probe?: boolean | { timeoutMs?: number }
  /**
   * Retries of 404, 410, 429, 5xx, network errors and timeouts. Default 10 attempts; a caller gives up
   * within 15 s, or after 75 s while the endpoint answers 410 (see {@link ManagedIdentityRetryOptions}).
   */
  retry?: ManagedIdentityRetryOptions
  /**
   * `@azure/identity`'s spelling of {@link retry}: `maxRetries` (0 to 99; `maxAttempts` = `maxRetries`
   * + 1), `retryDelayInMs` (`baseDelayMs`) and `maxRetryDelayInMs` (`maxDelayMs`), ms 0 to 86 400 000.
   * Laid over managed identity's defaults; `retry` wins where both set a value.
   */
  retryOptions?: RetryPolicyOptions
  /**
   * The `fetch` to use. Default: `globalThis.fetch` in `./imds`; a direct node:http(s) connection in
   * the main entry, which also uses it instead of this `fetch` while `HTTPS_PROXY` / `HTTP_PROXY` is
   * set (managed identity endpoints are on this machine or link-local: no proxy can reach them).
   */
  fetch?: FetchLike
  /** Time allowed for one request, ms (1 to 600 000). Default 30 000. */
  timeoutMs?: number
  /**
   * Refused at construction (`AZCRED_CONFIG_INVALID`) on every host but AKS workload identity, which
   * caches per client id: a system-assigned identity has no id to partition a shared cache by, so one
   * machine could read another's token. Passed to the engine with the other lifecycle options, so it
   * is never ignored silently.
   */
  tokenCache?: TokenCache
  /**
   * Azure Arc only (main entry): the folder whose `.key` files the agent's challenge may name. Default
   * `/var/opt/azcmagent/tokens` on Linux, `%ProgramData%\AzureConnectedMachineAgent\Tokens` on Windows.
   */
  arcKeyDirectory?: string
}

/** Which user-assigned identity to ask for; undefined means the system-assigned one. */
export type UserAssignedIdentity = { kind: 'clientId'; value: string } | { kind: 'objectId'; value: string } | { kind: 'resourceId'; value: string }

/**
 * Reads the official constructor shapes: `(clientId, options?)` or `(options?)`.
 * @throws AzcredError AZCRED_CONFIG_INVALID when more than one id is given, or one is empty.
 */
export function readConstructorArguments(
  first: string | ManagedIdentityCredentialOptions | undefined,
  second: ManagedIdentityCredentialOptions | undefined,
): { options: ManagedIdentityCredentialOptions; identity: UserAssignedIdentity | undefined } {
  const options = typeof first === 'string' ? { ...checkObject(second, 'options'), clientId: first } : checkObject(first, 'options')
  checkOptions(options)
  const given = (['clientId', 'objectId', 'resourceId'] as const).filter((kind) => options[kind] !== undefined)
  if (given.length > 1) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `ManagedIdentityCredential: ${given.join(' and ')} are both set: name a user-assigned identity by one id only`,
    )
  }
  const kind = given[0]
  if (kind === undefined) return { options, identity: undefined }
  const value = options[kind]?.trim() ?? ''
  if (value === '') {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `ManagedIdentityCredential: ${kind} is empty: pass the identity's id, or leave it out for the system-assigned identity`,
    )
  }
  return { options, identity: { kind, value } }
}

function invalid(message: string): AzcredError {
  return new AzcredError('AZCRED_CONFIG_INVALID', `ManagedIdentityCredential: ${message}`)
}

function checkObject<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === null) return {} as T
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${name} must be an object`)
  return value
}

/**
 * Checks option types and managed identity's own numbers (`timeoutMs`, `probe.timeoutMs`: 1 to
 * 600 000 ms; `retry.goneDelayMs`: 0 to 86 400 000 ms; `retryOptions.maxRetries`: 0 to 99); core's
 * lifecycle checks the other `retry`, `retryOptions` and `refresh` numbers the same way.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the option (never its value).
 */
function checkOptions(options: ManagedIdentityCredentialOptions): void {
  for (const name of ['clientId', 'objectId', 'resourceId', 'endpoint', 'arcKeyDirectory'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'string') throw invalid(`options.${name} must be a string`)
  }
  for (const name of ['fetch', 'onEvent'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw invalid(`options.${name} must be a function`)
  }
  checkNumber(options.timeoutMs, 'options.timeoutMs', 600_000, 1)
  const { probe } = options
  if (typeof probe !== 'boolean') checkNumber(checkObject(probe, 'options.probe').timeoutMs, 'options.probe.timeoutMs', 600_000, 1)
  checkObject(options.refresh, 'options.refresh')
  checkNumber(checkObject(options.retry, 'options.retry').goneDelayMs, 'options.retry.goneDelayMs', 86_400_000, 0)
  // 99 retries make the 100 attempts `retry.maxAttempts` allows (core checks the other numbers).
  checkNumber(checkObject(options.retryOptions, 'options.retryOptions').maxRetries, 'options.retryOptions.maxRetries', 99, 0)
}

/** `AZCRED_CONFIG_INVALID` for a host that cannot select a user-assigned identity at run time. */
export function userAssignedNotSupported(hostName: string, identity: UserAssignedIdentity, supported = 'only the system-assigned identity'): AzcredError {
  return new AzcredError(
    'AZCRED_CONFIG_INVALID',
    `${hostName} supports ${supported}, but options.${identity.kind} asks for a user-assigned one: remove it, or run where user-assigned identities can be chosen`,
  )
}
