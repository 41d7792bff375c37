import { AzcredError, type FetchLike, readEnv, sendJsonRequest } from '@azcred/core'
import type { ManagedIdentityCredentialOptions } from './managed-identity-options'
import { type HostTokenRequest, identityParameter, type ManagedIdentityHost, requestManagedIdentityToken, withQuery } from './managed-identity-request'

/** `AZURE_POD_IDENTITY_AUTHORITY_HOST`: an IMDS replacement's base URL (pod identity, tests). */
export const ENV_POD_IDENTITY_AUTHORITY_HOST = 'AZURE_POD_IDENTITY_AUTHORITY_HOST'
/** `IMDS_ENDPOINT`: the IMDS base URL (Azure Arc sets it too, together with `IDENTITY_ENDPOINT`). */
export const ENV_IMDS_ENDPOINT = 'IMDS_ENDPOINT'
/** Where IMDS lives on every Azure VM. */
export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254'
/** Default time the probe waits for any answer from IMDS, ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000

const TOKEN_PATH = '/metadata/identity/oauth2/token'
const API_VERSION = '2018-02-01'

/**
 * The IMDS base URL: the option, `AZURE_POD_IDENTITY_AUTHORITY_HOST`, `IMDS_ENDPOINT`, or 169.254.169.254.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a value that is not an http(s) URL.
 */
export function resolveImdsEndpoint(endpoint: string | undefined): string {
  const [value, name] =
    endpoint !== undefined
      ? [endpoint, 'options.endpoint']
      : readEnv(ENV_POD_IDENTITY_AUTHORITY_HOST) !== undefined
        ? [readEnv(ENV_POD_IDENTITY_AUTHORITY_HOST) as string, ENV_POD_IDENTITY_AUTHORITY_HOST]
        : [readEnv(ENV_IMDS_ENDPOINT) ?? DEFAULT_IMDS_ENDPOINT, ENV_IMDS_ENDPOINT]
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', `${name} is not an http(s) URL: give the IMDS base, such as ${DEFAULT_IMDS_ENDPOINT}`)
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

// One probe per IMDS base for the whole process: a chain asks once.
const probes = new Map<string, Promise<boolean>>()

/**
 * True when anything answers at the IMDS base within `timeoutMs`. The probe leaves out the
 * `Metadata` header, so a real IMDS refuses it at once without minting a token. The answer is
 * remembered for the process.
 */
export function probeImds(base: string, timeoutMs: number, fetch: FetchLike | undefined): Promise<boolean> {
  let probe = probes.get(base)
  if (probe === undefined) {
    probe = sendJsonRequest({ url: `${base}${TOKEN_PATH}?api-version=${API_VERSION}`, endpointName: 'IMDS' }, { fetch, timeoutMs }).then(
      () => true,
      (error: { code?: string }) => error.code !== 'AZCRED_NETWORK_ERROR' && error.code !== 'AZCRED_TIMEOUT',
    )
    probes.set(base, probe)
  }
  return probe
}

/** IMDS (VMs, scale sets, AKS nodes): `GET /metadata/identity/oauth2/token` with `Metadata: true`. */
export function createImdsHost(base: string, probeTimeoutMs: number | undefined): ManagedIdentityHost {
  return {
    name: 'IMDS',
    async fetchToken(request: HostTokenRequest) {
      if (probeTimeoutMs !== undefined && !(await probeImds(base, probeTimeoutMs, request.fetch))) {
        throw new AzcredError(
          'AZCRED_SOURCE_UNAVAILABLE',
          `no IMDS answered at ${base} within ${probeTimeoutMs} ms: this is not an Azure VM, scale set or AKS node (or IMDS is blocked); set options.endpoint or ${ENV_POD_IDENTITY_AUTHORITY_HOST} if it lives elsewhere`,
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

/**
 * The IMDS host the options describe: base from {@link resolveImdsEndpoint}, probe on when
 * `options.probe` asks for it (default timeout {@link DEFAULT_PROBE_TIMEOUT_MS}).
 * @throws AzcredError AZCRED_CONFIG_INVALID for an `endpoint` that is not an http(s) URL.
 */
export function createImdsHostFromOptions(options: Pick<ManagedIdentityCredentialOptions, 'endpoint' | 'probe'>): ManagedIdentityHost {
  const { probe } = options
  const probeTimeoutMs =
    probe === undefined || probe === false ? undefined : probe === true ? DEFAULT_PROBE_TIMEOUT_MS : (probe.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS)
  return createImdsHost(resolveImdsEndpoint(options.endpoint), probeTimeoutMs)
}
