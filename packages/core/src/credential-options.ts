import { ENV_AUTHORITY_HOST, readEnv } from './env'
import type { FetchLike } from './http'
import type { TokenLifecycleOptions } from './token-lifecycle'
import { DEFAULT_AUTHORITY_HOST, normalizeAuthorityHost } from './validate'

/** Options every Entra ID credential accepts. */
export interface EntraCredentialOptions extends TokenLifecycleOptions {
  /**
   * Entra ID host. Default: `cloud.authorityHost`, else `AZURE_AUTHORITY_HOST`, else
   * `https://login.microsoftonline.com`.
   */
  authorityHost?: string
  /** A cloud from `@azcred/clouds`; its `authorityHost` (and, for federated flows, `tokenExchangeAudience`) are read. */
  cloud?: { authorityHost: string; tokenExchangeAudience?: string }
  /** Tenants a call may switch to with `getToken(scopes, { tenantId })`; `*` allows any. Default none. */
  additionallyAllowedTenants?: string[]
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Time allowed for one token request, in milliseconds. Default 30 000. */
  timeoutMs?: number
  /** Accept an `http:` authority host on loopback (a local emulator). Default false. */
  allowInsecureConnection?: boolean
}

/**
 * The authority host a credential uses: the option, the cloud's, `AZURE_AUTHORITY_HOST`, or the
 * public cloud, in that order, normalised and checked.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a non-https host.
 */
export function resolveAuthorityHost(options: EntraCredentialOptions): string {
  return normalizeAuthorityHost(options.authorityHost ?? options.cloud?.authorityHost ?? readEnv(ENV_AUTHORITY_HOST) ?? DEFAULT_AUTHORITY_HOST, {
    allowInsecureConnection: options.allowInsecureConnection,
  })
}
