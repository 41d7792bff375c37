import { ENV_AUTHORITY_HOST, readEnv } from './env'
import type { FetchLike } from './http'
import type { TokenLifecycleOptions } from './token-lifecycle'
import { assertConfig, DEFAULT_AUTHORITY_HOST, normalizeAuthorityHost } from './validate'

/**
 * Options every Entra ID credential accepts.
 * @public
 */
export interface EntraCredentialOptions extends TokenLifecycleOptions {
  /**
   * Entra ID host. The first of: this option, `AZURE_AUTHORITY_HOST` (the official override, as in
   * `@azure/identity`), `cloud.authorityHost`, `https://login.microsoftonline.com`.
   */
  authorityHost?: string
  /**
   * A cloud from `@azcred/clouds`; its `authorityHost` (unless `authorityHost` or `AZURE_AUTHORITY_HOST`
   * is set) and, for federated flows, `tokenExchangeAudience` are read.
   */
  cloud?: { authorityHost: string; tokenExchangeAudience?: string }
  /** Tenants a call may switch to with `getToken(scopes, { tenantId })`; `*` allows any. Default none. */
  additionallyAllowedTenants?: string[]
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Accept an `http:` authority host on loopback (a local emulator). Default false. */
  allowInsecureConnection?: boolean
  /** Accepted for `@azure/identity` compatibility and ignored: azcred never does instance discovery. */
  disableInstanceDiscovery?: boolean
}

/**
 * The authority host a credential uses: the `authorityHost` option, else `AZURE_AUTHORITY_HOST`, else
 * `cloud.authorityHost`, else the public cloud; normalised and checked. Also checks the option types
 * every Entra flow shares (`options`, `cloud`, `fetch`).
 * @throws AzcredError AZCRED_CONFIG_INVALID for a non-https host (naming where it came from) or an
 * option of the wrong type.
 * @internal For azcred's own packages; not covered by semver.
 */
export function resolveAuthorityHost(options: EntraCredentialOptions): string {
  assertConfig(typeof options === 'object' && options !== null, 'options must be an object')
  const { authorityHost, cloud, fetch } = options
  assertConfig(cloud === undefined || typeof cloud?.authorityHost === 'string', 'cloud must be a cloud from @azcred/clouds')
  assertConfig(fetch === undefined || typeof fetch === 'function', 'fetch must be a function')
  const fromEnv = readEnv(ENV_AUTHORITY_HOST)
  return normalizeAuthorityHost(authorityHost ?? fromEnv ?? cloud?.authorityHost ?? DEFAULT_AUTHORITY_HOST, {
    allowInsecureConnection: options.allowInsecureConnection,
    optionName: authorityHost !== undefined ? 'authorityHost' : fromEnv !== undefined ? ENV_AUTHORITY_HOST : 'cloud.authorityHost',
  })
}
