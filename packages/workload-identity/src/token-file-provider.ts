import { readFile } from 'node:fs/promises'
import { AzcredError, type FederatedTokenProvider } from '@azcred/core'

/** Options of {@link createTokenFileProvider}. */
export interface TokenFileProviderOptions {
  /** The file holding the token, such as `AZURE_FEDERATED_TOKEN_FILE`. */
  path: string
  /** How long a read is reused, in milliseconds, from 0 to 3 600 000. Default 300 000 (5 minutes); the kubelet rotates well before expiry. */
  maxAgeMs?: number
}

const invalid = (problem: string) => new AzcredError('AZCRED_CONFIG_INVALID', `AZURE_FEDERATED_TOKEN_FILE (tokenFilePath) ${problem}`)

// A path is named in a message only when it plainly is one: never a token, key or secret set by
// mistake (a JWT, PEM armour, a long unbroken run of key-like characters, control characters).
const shownPath = (path: string): string =>
  /^~?[\p{L}\p{N}_ ./\\:()@-]{1,260}$/u.test(path) && !/-----|eyJ|[A-Za-z\d]{40}/.test(path) ? `"${path}"` : '(not shown)'

/**
 * A `FederatedTokenProvider` that reads a projected service-account token from a file, reusing a
 * read for at most `maxAgeMs` and reading again when asked to `forceRefresh` (after AADSTS700024).
 * @throws AzcredError AZCRED_CONFIG_INVALID for a `maxAgeMs` out of range (at once); from
 * `getFederatedToken`, for an empty path, a token or key given instead of a path (never echoed), and
 * a file that cannot be read or is empty.
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
        // No `cause`: Node's own message repeats the path.
        throw invalid(`${shownPath(path)} cannot be read (${(error as { code?: string }).code}): check the pod's projected volume`)
      }
      if (token === '') throw invalid(`${shownPath(path)} is empty: the token is not written yet`)
      cached = { token, readAt: Date.now() }
      return token
    },
  }
}
