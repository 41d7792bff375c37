import { type AbortSignalLike, AzcredError, type FetchLike, readEnv, sendJsonRequest, throwIfAborted } from '@azcred/core'
import type { ManagedIdentityCredentialOptions } from './managed-identity-options'
import {
  type HostTokenRequest,
  identityParameter,
  type ManagedIdentityHost,
  type ManagedIdentityHostEntry,
  parseEndpoint,
  requestManagedIdentityToken,
  withQuery,
} from './managed-identity-request'

/** `AZURE_POD_IDENTITY_AUTHORITY_HOST`: an IMDS replacement's base URL (pod identity, tests). */
export const ENV_POD_IDENTITY_AUTHORITY_HOST = 'AZURE_POD_IDENTITY_AUTHORITY_HOST'
/** `IMDS_ENDPOINT`: the IMDS base URL (Azure Arc sets it too, together with `IDENTITY_ENDPOINT`). */
export const ENV_IMDS_ENDPOINT = 'IMDS_ENDPOINT'
/** Where IMDS lives on every Azure VM. */
export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254'
/** Default time the probe waits for any answer from IMDS, ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000
/** How long a "no IMDS here" probe verdict is remembered before the next probe, ms. */
export const PROBE_NEGATIVE_TTL_MS = 60_000

const TOKEN_PATH = '/metadata/identity/oauth2/token'
const API_VERSION = '2018-02-01'

/**
 * The IMDS base URL: the option, `AZURE_POD_IDENTITY_AUTHORITY_HOST`, `IMDS_ENDPOINT`, or 169.254.169.254.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a value that is not an http(s) URL, or has `user:password@`.
 */
export function resolveImdsEndpoint(endpoint: string | undefined): string {
  const pod = readEnv(ENV_POD_IDENTITY_AUTHORITY_HOST)
  const [value, name] =
    endpoint !== undefined
      ? [endpoint, 'options.endpoint']
      : pod !== undefined
        ? [pod, ENV_POD_IDENTITY_AUTHORITY_HOST]
        : [readEnv(ENV_IMDS_ENDPOINT) ?? DEFAULT_IMDS_ENDPOINT, ENV_IMDS_ENDPOINT]
  const url = parseEndpoint(value, name)
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

interface Probe {
  found: Promise<boolean>
  /** When the verdict expires: never for "here", PROBE_NEGATIVE_TTL_MS after "not here". */
  until: number
  /** Requests waiting on it; when every one has aborted, the probe is aborted and leaves no verdict. */
  waiters: number
  stop: AbortController
}

// Verdicts per transport (the `fetch` each credential uses), then per IMDS base: credentials on the
// same transport share them, but one whose fetch fails never speaks for another. "Here" lasts for the
// process, "not here" PROBE_NEGATIVE_TTL_MS (a slow first answer must not disable managed identity for good).
const probes = new WeakMap<object, Map<string, Probe>>()
// The key for credentials that pass no fetch (the global one).
const GLOBAL_FETCH = {}

/** True when the causes of an AZCRED_NETWORK_ERROR hold a system or transport error code (ECONNREFUSED, UND_ERR_…): a network failure. */
function hasCode(error: unknown): boolean {
  for (let link = error, depth = 0; link != null && depth < 10; link = (link as { cause?: unknown }).cause, depth += 1) {
    if (depth > 0 && typeof (link as { code?: unknown }).code === 'string') return true
  }
  return false
}

/**
 * True when IMDS answers at the base within `timeoutMs`. The probe leaves out the `Metadata` header,
 * so a real IMDS refuses it at once without minting a token: only that refusal (HTTP 400 with a JSON
 * `error`) or a token counts; an HTML page, a 404, another server's answer, no answer in time or a
 * network failure means "not here". Verdicts are shared by credentials using the same `fetch`.
 * A `fetch` that throws something other than a network failure (a bug, not an answer) gives no
 * verdict: its error is passed on and the next request probes again. Shared by concurrent requests;
 * aborted (without a verdict) once every one of them has aborted.
 * @throws AzcredError AZCRED_ABORTED, or the `fetch`'s own failure (AZCRED_NETWORK_ERROR naming it)
 */
export async function probeImds(base: string, timeoutMs: number, fetch: FetchLike | undefined, abortSignal?: AbortSignalLike): Promise<boolean> {
  throwIfAborted(abortSignal)
  const transport = fetch ?? GLOBAL_FETCH
  const verdicts = probes.get(transport) ?? new Map<string, Probe>()
  probes.set(transport, verdicts)
  let probe = verdicts.get(base)
  if (probe === undefined || Date.now() >= probe.until) {
    const stop = new AbortController()
    const current: Probe = { found: Promise.resolve(false), until: Number.POSITIVE_INFINITY, waiters: 0, stop }
    current.found = sendJsonRequest(
      { url: `${base}${TOKEN_PATH}?api-version=${API_VERSION}`, endpointName: 'IMDS' },
      { fetch, timeoutMs, abortSignal: stop.signal },
    ).then(
      ({ body }) => typeof body.access_token === 'string',
      (error: { code?: string; status?: number; error?: unknown }) => {
        // Only an answer, no answer in time or a network failure is a verdict; an abort, or a fetch
        // that fails some other way (a bug, not an answer), is passed on and gives none.
        if (
          /^AZCRED_(TIMEOUT|TOKEN_REQUEST_FAILED|RESPONSE_INVALID)$/.test(error.code as string) ||
          (error.code === 'AZCRED_NETWORK_ERROR' && hasCode(error))
        ) {
          return error.status === 400 && typeof error.error === 'string'
        }
        throw error
      },
    )
    current.found.then(
      (here) => {
        if (!here) current.until = Date.now() + PROBE_NEGATIVE_TTL_MS
      },
      () => {
        // No verdict from a failed probe: the next request probes again.
        if (verdicts.get(base) === current) verdicts.delete(base)
      },
    )
    verdicts.set(base, current)
    probe = current
  }
  const shared = probe
  shared.waiters += 1
  const onAbort = (): void => {
    shared.waiters -= 1
    if (shared.waiters > 0) return
    // No verdict from an aborted probe: the next request probes again.
    if (verdicts.get(base) === shared) verdicts.delete(base)
    shared.stop.abort()
  }
  abortSignal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await shared.found
  } finally {
    abortSignal?.removeEventListener('abort', onAbort)
    if (!abortSignal?.aborted) shared.waiters -= 1
  }
}

/** IMDS (VMs, scale sets, AKS nodes): `GET /metadata/identity/oauth2/token` with `Metadata: true`. */
export function createImdsHost(base: string, probeTimeoutMs: number | undefined): ManagedIdentityHost {
  return {
    name: 'IMDS',
    async fetchToken(request: HostTokenRequest) {
      if (probeTimeoutMs !== undefined && !(await probeImds(base, probeTimeoutMs, request.fetch, request.abortSignal))) {
        throw new AzcredError(
          'AZCRED_SOURCE_UNAVAILABLE',
          `no IMDS answered at ${base} within ${probeTimeoutMs} ms (or what answered is not IMDS): this is not an Azure VM, scale set or AKS node (or IMDS is blocked); set options.endpoint or ${ENV_POD_IDENTITY_AUTHORITY_HOST} if it lives elsewhere`,
        )
      }
      const url = withQuery(`${base}${TOKEN_PATH}`, {
        'api-version': API_VERSION,
        resource: request.resource,
        ...identityParameter(request.identity, ['client_id', 'object_id', 'msi_res_id']),
      })
      return requestManagedIdentityToken('IMDS', { url, headers: { Metadata: 'true' } }, request)
    },
  }
}

const hosts = new Map<string, ManagedIdentityHost>()

/**
 * The IMDS host the options describe: base from {@link resolveImdsEndpoint}, probe on when
 * `options.probe` asks for it (default timeout {@link DEFAULT_PROBE_TIMEOUT_MS}) unless the base comes
 * from `AZURE_POD_IDENTITY_AUTHORITY_HOST`.
 * @throws AzcredError AZCRED_CONFIG_INVALID for an `endpoint` that is not an http(s) URL.
 */
export function createImdsHostFromOptions(options: Pick<ManagedIdentityCredentialOptions, 'endpoint' | 'probe'>): ManagedIdentityHost {
  const { probe, endpoint } = options
  // A pod identity endpoint is assumed present, as the official libraries do (it may not answer like IMDS).
  const skip = !probe || (endpoint === undefined && readEnv(ENV_POD_IDENTITY_AUTHORITY_HOST) !== undefined)
  const probeTimeoutMs = skip ? undefined : probe === true ? DEFAULT_PROBE_TIMEOUT_MS : (probe.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS)
  const base = resolveImdsEndpoint(endpoint)
  // Credentials with the same base and probe share one host object (less heap per credential).
  const key = `${probeTimeoutMs} ${base}`
  let host = hosts.get(key)
  if (host === undefined) {
    host = createImdsHost(base, probeTimeoutMs)
    if (hosts.size < 64) hosts.set(key, host)
  }
  return host
}

/**
 * IMDS's row of the host table: the last one, chosen when no other host's variables are set; its
 * evidence names the override variable that sets the base, if any.
 */
export const IMDS_HOST: ManagedIdentityHostEntry = {
  name: 'imds',
  detect() {
    const override = [ENV_POD_IDENTITY_AUTHORITY_HOST, ENV_IMDS_ENDPOINT].find((name) => readEnv(name) !== undefined)
    const where = override === undefined ? 'at 169.254.169.254' : `at ${override}`
    return { reason: `IMDS ${where}: no other host's variables are set (VMs, scale sets, AKS nodes)`, variables: override === undefined ? [] : [override] }
  },
  create: createImdsHostFromOptions,
}
