import { readFile } from 'node:fs/promises'
import { AzcredError, type FederatedTokenProvider, systemErrorCode } from '@azcred/core'

/** Options of {@link createTokenFileProvider}. */
export interface TokenFileProviderOptions {
  /** The file holding the token, such as `AZURE_FEDERATED_TOKEN_FILE`. */
  path: string
  /** How long a read is reused, in milliseconds, from 0 to 3 600 000. Default 300 000 (5 minutes); the kubelet rotates well before expiry. */
  maxAgeMs?: number
}

const invalid = (problem: string) => new AzcredError('AZCRED_CONFIG_INVALID', `AZURE_FEDERATED_TOKEN_FILE (tokenFilePath) ${problem}`)

// Why a file could not be read: its system code (ENOENT, EACCES, EISDIR, ...) and the fix. The value
// itself is never shown: no pattern tells a path from a token or secret set there by mistake.
const unreadable = (error: unknown): string =>
  `cannot be read (${systemErrorCode(error) ?? 'unreadable'}): set the path of a file this process may read (AKS mounts the token in pods labelled azure.workload.identity/use; the value is not shown)`

/**
 * A `FederatedTokenProvider` that reads a projected service-account token from a file, reusing a
 * read for at most `maxAgeMs` and reading again when asked to `forceRefresh` (after AADSTS700024).
 * @throws AzcredError AZCRED_CONFIG_INVALID for a `maxAgeMs` out of range (at once); from
 * `getFederatedToken`, for an empty path, a token or key given instead of a path, and a file that
 * cannot be read (naming the system code, such as ENOENT or EACCES) or is empty. The path is never
 * shown in a message.
 * @example const provider = createTokenFileProvider({ path: '/var/run/secrets/azure/tokens/azure-identity-token' })
 */
export function createTokenFileProvider(options: TokenFileProviderOptions): FederatedTokenProvider {
  const { path, maxAgeMs = 300_000 } = options
  if (typeof maxAgeMs !== 'number' || !(maxAgeMs >= 0 && maxAgeMs <= 3_600_000)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'tokenFileMaxAgeMs must be 0 to 3600000 ms')
  }
  let cached: { token: string; readAt: number } | undefined
  return {
    name: 'token-file',
    async getFederatedToken({ forceRefresh }) {
      if (!forceRefresh && cached !== undefined && Date.now() - cached.readAt < maxAgeMs) return cached.token
      if (typeof path !== 'string' || path.trim() === '') throw invalid('is empty')
      if (/eyJ|-----BEGIN/.test(path)) throw invalid('holds a token or key, not a path: set the path of the token file')
      let token: string
      try {
        token = (await readFile(path, 'utf8')).trim()
      } catch (error) {
        // Only the system code: Node's own message repeats the path.
        throw invalid(unreadable(error))
      }
      if (token === '') throw invalid('names an empty file: the token is not written yet, try again shortly')
      cached = { token, readAt: Date.now() }
      return token
    },
  }
}
