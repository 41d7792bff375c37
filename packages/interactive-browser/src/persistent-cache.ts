import { AzcredError, assertConfig, type TokenCache } from '@azcred/core'

/**
 * The official persistence options (`@azure/identity`'s shape): with `enabled: true` tokens and refresh
 * tokens are kept in `@azcred/token-cache-file` (install it beside this package), encrypted unless
 * `unsafeAllowUnencryptedStorage` is true. The object is handed to that package unchanged (so its own
 * options, such as `directory`, pass through).
 * @public
 */
export interface TokenCachePersistenceOptions {
  /** Keep the session on disk. Default false (memory only). */
  enabled: boolean
  /** The cache's name: applications with different names keep separate caches. Default as `@azcred/token-cache-file`'s. */
  name?: string
  /** Store in plaintext when no encryption key can be had. Default false. */
  unsafeAllowUnencryptedStorage?: boolean
  /** `@azcred/token-cache-file`'s own options (`directory`, `keySource`, `onEvent`...), passed on unchanged (as `@azcred/device-code`). */
  [option: string]: unknown
}

/** The credential's cache: the one to give the lifecycle, and what to wait for before the first call. */
export interface ResolvedTokenCache {
  tokenCache: TokenCache | undefined
  /** Resolves when the persistent cache is loaded; rejects (AZCRED_CONFIG_INVALID) when it cannot be. */
  ready: Promise<void> | undefined
}

/** Loads `@azcred/token-cache-file` only when persistence is asked for (the same hook as `@azcred/device-code`). */
async function loadPersistentCache(options: TokenCachePersistenceOptions): Promise<TokenCache> {
  // In a variable, so that bundlers do not pull the optional package into every bundle.
  const specifier = '@azcred/token-cache-file'
  let module: { persistentTokenCache?: (options: TokenCachePersistenceOptions) => TokenCache | Promise<TokenCache> }
  try {
    module = await import(/* @vite-ignore */ specifier)
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? 'tokenCachePersistenceOptions needs the @azcred/token-cache-file package: install it (npm install @azcred/token-cache-file), or pass a tokenCache'
        : 'tokenCachePersistenceOptions: @azcred/token-cache-file could not be loaded: pass a tokenCache instead',
    )
  }
  assertConfig(typeof module.persistentTokenCache === 'function', '@azcred/token-cache-file has no persistentTokenCache: update it')
  const cache = await module.persistentTokenCache(options)
  assertConfig(
    typeof cache === 'object' && cache !== null && typeof cache.read === 'function' && typeof cache.write === 'function',
    '@azcred/token-cache-file returned no TokenCache: update it',
  )
  return cache
}

/**
 * `tokenCache` as given, or (with `tokenCachePersistenceOptions.enabled`) a cache that forwards to
 * `@azcred/token-cache-file` once `ready` resolved (the credential waits for it before its first call).
 * @throws AzcredError AZCRED_CONFIG_INVALID for options of the wrong shape, or both options.
 */
export function resolveTokenCache(tokenCache: TokenCache | undefined, persistence: TokenCachePersistenceOptions | undefined): ResolvedTokenCache {
  assertConfig(
    persistence === undefined || (typeof persistence === 'object' && persistence !== null && typeof persistence.enabled === 'boolean'),
    'tokenCachePersistenceOptions must be { enabled: boolean, name?, unsafeAllowUnencryptedStorage? }',
  )
  if (persistence?.enabled !== true) return { tokenCache, ready: undefined }
  assertConfig(tokenCache === undefined, 'pass tokenCache or tokenCachePersistenceOptions, not both')
  let loaded: TokenCache | undefined
  const cache = (): TokenCache => loaded as TokenCache
  const ready = loadPersistentCache(persistence).then((value) => {
    loaded = value
  })
  ready.catch(() => {}) // reported to every caller that waits for it, never an unhandled rejection
  return {
    tokenCache: {
      read: (key) => cache().read(key),
      write: (key, value, expiresOnTimestamp) => cache().write(key, value, expiresOnTimestamp),
      remove: (key) => cache().remove(key),
      scrub: () => cache().scrub(),
    },
    ready,
  }
}
