import {
  type AbortSignalLike,
  type AccessToken,
  AzcredError,
  type FetchLike,
  type GetTokenOptions,
  isTransient,
  readEnv,
  sendJsonRequest,
  TokenRequestError,
  toAccessToken,
} from '@azcred/core'
import type { ManagedIdentityCredentialOptions, UserAssignedIdentity } from './managed-identity-options'

/** The hosting environments managed identity knows. */
export type ManagedIdentitySourceName = 'workload-identity' | 'service-fabric' | 'app-service' | 'azure-ml' | 'cloud-shell' | 'azure-arc' | 'imds'

/** What `detectManagedIdentitySource` found, and why. Names variables, never their values. */
export interface ManagedIdentitySource {
  name: ManagedIdentitySourceName
  /** One sentence: which evidence decided. */
  reason: string
  /** The variables that decided, by name. */
  variables: string[]
}

/** Options of `detectManagedIdentitySource`. */
export interface DetectManagedIdentitySourceOptions {
  /** A user-assigned client id from options; workload identity also accepts `AZURE_CLIENT_ID`. */
  clientId?: string
  /** Look for the Arc agent on disk when its variables are absent (Node build only). Default true. */
  checkArcAgent?: boolean
}

/** What the runtime adds to detection: the Node build can look for the Arc agent on disk. */
export interface DetectionRuntime {
  arcAgentInstalled?: () => boolean
}

/** Something that answers `getToken` with a token (never null): a lifecycle, or a credential a host brings. */
export interface TokenSource {
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>
}

/**
 * Builds a host's endpoint at construction, reading and checking the platform's variables: a
 * {@link ManagedIdentityHost} (the lifecycle engine goes around it), or a whole credential for a host
 * that brings its own (AKS workload identity).
 * @throws AzcredError AZCRED_CONFIG_INVALID for a platform variable that is not an http(s) URL.
 */
export type ManagedIdentityHostFactory = (
  options: ManagedIdentityCredentialOptions,
  identity: UserAssignedIdentity | undefined,
  source: ManagedIdentitySource,
) => ManagedIdentityHost | TokenSource

/**
 * One row of the host table: how to recognise the host from the variables the platform sets (no
 * network), and how to build its endpoint, which builds each request and reads each answer (through
 * {@link requestManagedIdentityToken}). Adding a host is adding one row.
 */
export interface ManagedIdentityHostEntry {
  readonly name: ManagedIdentitySourceName
  /** The evidence for this host, or undefined when it is not this one. Names variables, never values. */
  detect(options: DetectManagedIdentitySourceOptions, runtime: DetectionRuntime): { reason: string; variables: string[] } | undefined
  /**
   * Builds the endpoint. Absent for a host that needs Node (files, TLS pinning, a token file): the
   * Node build supplies those factories, by name; the runtime-agnostic build reports the host unavailable.
   */
  readonly create?: ManagedIdentityHostFactory
}

/** Detection evidence when every one of `variables` is set (read through core's `readEnv`). */
export function whenSet(variables: readonly string[], reason: (variables: readonly string[]) => string): ManagedIdentityHostEntry['detect'] {
  return () => (variables.every((name) => readEnv(name) !== undefined) ? { reason: reason(variables), variables: [...variables] } : undefined)
}

/**
 * A platform variable that holds an endpoint URL, checked (read at construction, once detection found it set).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the variable.
 */
export function endpointFromEnv(name: string): string {
  return parseEndpoint(readEnv(name), name).href
}

/** What a host is asked for: one resource, for one identity. */
export interface HostTokenRequest {
  /** The resource (App ID URI), the scope without `/.default`. */
  resource: string
  /** The user-assigned identity, or undefined for the system-assigned one. */
  identity: UserAssignedIdentity | undefined
  fetch: FetchLike | undefined
  timeoutMs: number | undefined
  /** Fires when every caller waiting on this request has aborted, or the lifecycle stops. */
  abortSignal?: AbortSignalLike | undefined
}

/** One hosting environment's token endpoint. */
export interface ManagedIdentityHost {
  /** Human name for messages, such as "IMDS" or "App Service". */
  readonly name: string
  fetchToken(request: HostTokenRequest): Promise<AccessToken>
}

/** A request to a managed identity endpoint. */
export interface HostHttpRequest {
  url: string
  method?: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
}

/**
 * The one resource a managed identity token is for: the single scope with `/.default` removed.
 * @throws AzcredError AZCRED_CONFIG_INVALID for more than one scope.
 */
export function scopeToResource(scopes: readonly string[]): string {
  const [scope] = scopes
  if (scopes.length !== 1 || scope === undefined) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `managed identity issues a token for one resource at a time, but ${scopes.length} scopes were passed: call getToken once per resource`,
    )
  }
  return scope.endsWith('/.default') ? scope.slice(0, -'/.default'.length) : scope
}

/**
 * Checks an endpoint URL from an option or a platform variable: http(s), no `user:password@`.
 * The value is never echoed (it may carry credentials).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming `name`.
 */
export function parseEndpoint(value: unknown, name: string): URL {
  let url: URL | undefined
  try {
    url = new URL(value as string)
  } catch {}
  if (typeof value !== 'string' || !/^https?:$/.test(url?.protocol as string) || url?.username !== '' || url.password !== '') {
    throw new AzcredError('AZCRED_CONFIG_INVALID', `${name} must be an http(s) URL without user:password@`)
  }
  return url
}

/** Adds query parameters to an endpoint URL. */
export function withQuery(endpoint: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(endpoint)
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(name, value)
  return url.href
}

/** The query parameter that names a user-assigned identity, per host: `[clientId, objectId, resourceId]` names. */
export function identityParameter(identity: UserAssignedIdentity | undefined, names: readonly [string, string, string]): Record<string, string> {
  if (identity === undefined) return {}
  const index = identity.kind === 'clientId' ? 0 : identity.kind === 'objectId' ? 1 : 2
  return { [names[index] as string]: identity.value }
}

/**
 * True for failures a managed identity endpoint asks us to retry: network, timeout, 404, 408, 410,
 * 429, 5xx; never an error marked `retryable: false` (DNS, TLS certificate, plain HTTP on https:, redirect).
 */
export function isManagedIdentityRetryable(error: unknown): boolean {
  const { status, retryable } = (error ?? {}) as Partial<TokenRequestError> & { retryable?: boolean }
  return retryable !== false && (isTransient(error) || status === 404 || status === 410)
}

/**
 * Sends one token request to a managed identity endpoint and reads the token. Non-2xx answers become
 * `TokenRequestError`s that say what the status means for managed identity; nothing of the request
 * (headers carry the platform's secret) or the raw answer is kept.
 */
export async function requestManagedIdentityToken(host: string, request: HostHttpRequest, options: HostTokenRequest): Promise<AccessToken> {
  const endpointName = `the ${host} managed identity endpoint`
  let body: Record<string, unknown>
  try {
    ;({ body } = await sendJsonRequest({ ...request, endpointName }, options))
  } catch (error) {
    // A redirect refusal (3xx) or another final error keeps core's own message and `retryable: false`.
    if (!(error instanceof TokenRequestError) || error.status < 400 || (error as { retryable?: boolean }).retryable === false) throw error
    throw explainStatus(endpointName, error, options.identity)
  }
  return readManagedIdentityToken(body, endpointName)
}

function explainStatus(endpointName: string, error: TokenRequestError, identity: UserAssignedIdentity | undefined): TokenRequestError {
  const { status } = error
  let meaning: string
  if (status === 400) {
    meaning =
      identity === undefined
        ? 'no system-assigned identity is enabled here, or the request was refused: enable the identity on this resource, or pass the id of an assigned user-assigned identity'
        : `no identity with that ${identity.kind} is assigned to this resource: check options.${identity.kind} against the identities assigned to it`
  } else if (status === 401 || status === 403) {
    meaning = 'the endpoint refused the secret the platform provides: restart so the current value of the platform variable is read'
  } else if (status === 404 || status === 410) {
    meaning = 'the endpoint is being updated: retried with backoff; if it persists, check the host'
  } else if (status === 429) {
    meaning = 'the endpoint is throttling this process: cache tokens (one credential per process) and retry later'
  } else {
    meaning = 'the endpoint failed: retried with backoff; if it persists, check the host'
  }
  const oauthError = error.error === undefined ? '' : ` ${error.error}`
  return new TokenRequestError(`${endpointName} answered HTTP ${status}${oauthError}: ${meaning}`, {
    status,
    error: error.error,
    retryAfterMs: error.retryAfterMs,
  })
}

/** After a 410, wait at least `goneDelayMs` before the next attempt (Microsoft's IMDS guidance). */
export function slowDownWhenGone(error: unknown, goneDelayMs: number): unknown {
  if (!(error instanceof TokenRequestError) || error.status !== 410 || (error.retryAfterMs ?? 0) >= goneDelayMs) return error
  return new TokenRequestError(error.message, { status: 410, error: error.error, retryAfterMs: goneDelayMs })
}

/**
 * Reads a managed identity token answer. Hosts differ: `expires_on` comes as epoch seconds (number or
 * string) or as a date string (`11/22/2026 10:00:00 PM +00:00`); `expires_in` is the fallback. The
 * date string is turned into epoch seconds, then core's `toAccessToken` applies the one set of rules
 * (an expiry in the past or missing is an error, an absurd one is capped, `refresh_in` is checked).
 * Tokens living two hours or more without `refresh_in` are refreshed at half their life, as MSAL does.
 * @throws AzcredError AZCRED_RESPONSE_INVALID
 */
export function readManagedIdentityToken(body: Record<string, unknown>, endpointName: string, now = Date.now()): AccessToken {
  const { expires_on } = body
  const expiresOn = typeof expires_on === 'string' && Number.isNaN(Number(expires_on)) ? Date.parse(expires_on) / 1000 : expires_on
  // Managed identity's expires_on is authoritative; expires_in only stands in when there is none.
  const onlyIn = expiresOn == null || Number.isNaN(expiresOn)
  const token = toAccessToken({ ...body, expires_on: expiresOn, expires_in: onlyIn ? body.expires_in : undefined }, endpointName, now)
  const lifetimeMs = token.expiresOnTimestamp - now
  if (token.refreshAfterTimestamp === undefined && lifetimeMs >= 7_200_000) token.refreshAfterTimestamp = now + Math.floor(lifetimeMs / 2)
  return token
}
