import { readFile } from 'node:fs/promises'
import { AzcredError, type FederatedTokenProvider } from '@azcred/core'

/** Options of {@link createTokenFileProvider}. */
export interface TokenFileProviderOptions {
  /** The file holding the token, such as `AZURE_FEDERATED_TOKEN_FILE`. */
  path: string
  /** How long a read is reused, in milliseconds. Default 300 000 (5 minutes); the kubelet rotates well before expiry. */
  maxAgeMs?: number
}

/**
 * A `FederatedTokenProvider` that reads a projected service-account token from a file, reusing a
 * read for at most `maxAgeMs` and reading again when asked to `forceRefresh` (after AADSTS700024).
 * @throws AzcredError AZCRED_CONFIG_INVALID when the file cannot be read or is empty.
 * @example const provider = createTokenFileProvider({ path: '/var/run/secrets/azure/tokens/azure-identity-token' })
 */
export function createTokenFileProvider(options: TokenFileProviderOptions): FederatedTokenProvider {
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000
  let cached: { token: string; readAt: number } | undefined
  return {
    name: 'token-file',
    async getFederatedToken({ forceRefresh }) {
      if (!forceRefresh && cached !== undefined && Date.now() - cached.readAt < maxAgeMs) return cached.token
      let token: string
      try {
        token = (await readFile(options.path, 'utf8')).trim()
      } catch (error) {
        const reason = (error as { code?: string }).code ?? 'unreadable'
        throw new AzcredError(
          'AZCRED_CONFIG_INVALID',
          `the federated token file ${options.path} cannot be read (${reason}): check AZURE_FEDERATED_TOKEN_FILE and the pod's projected volume`,
          { cause: error },
        )
      }
      if (token === '')
        throw new AzcredError('AZCRED_CONFIG_INVALID', `the federated token file ${options.path} is empty: the projected token has not been written yet`)
      cached = { token, readAt: Date.now() }
      return token
    },
  }
}
