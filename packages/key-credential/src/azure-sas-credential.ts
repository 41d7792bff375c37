import { AzcredError, assertNonEmpty } from '@azcred/core'

function parseSas(signature: string): URLSearchParams {
  const parameters = new URLSearchParams(signature.startsWith('?') ? signature.slice(1) : signature)
  if (!parameters.has('sig')) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'the shared access signature has no sig parameter: pass the whole SAS query string (sv=…&sig=…)')
  }
  return parameters
}

/**
 * A shared access signature, rotatable with `update()`, that it applies to request URLs: its
 * parameters are added, replacing any of the same name already on the URL. Structurally
 * `@azure/core-auth`'s `SASCredential`. The signature never shows in `JSON.stringify`,
 * `util.inspect` or an error.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID for an empty SAS or one without `sig`.
 * @example
 * const sas = new AzureSasCredential('sv=2025-01-05&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=...')
 * await fetch(sas.apply('https://account.blob.core.windows.net/container/blob.txt'))
 */
export class AzureSasCredential {
  #signature: string
  #parameters: URLSearchParams

  constructor(signature: string) {
    assertNonEmpty(signature, 'AzureSasCredential signature', 'pass the SAS query string')
    this.#parameters = parseSas(signature)
    this.#signature = signature
  }

  /** The current SAS, as given. */
  get signature(): string {
    return this.#signature
  }

  /**
   * Replaces the SAS; URLs applied afterwards carry the new one.
   * @throws AzcredError AZCRED_CONFIG_INVALID for an empty SAS or one without `sig`.
   */
  update(newSignature: string): void {
    assertNonEmpty(newSignature, 'AzureSasCredential.update signature', 'pass the new SAS query string')
    this.#parameters = parseSas(newSignature)
    this.#signature = newSignature
  }

  /**
   * The URL with this SAS on it: the SAS parameters replace same-named ones, the rest are kept.
   * @throws AzcredError AZCRED_CONFIG_INVALID when `url` is not absolute.
   */
  apply(url: string | URL): string {
    let target: URL
    try {
      target = new URL(url)
    } catch {
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'AzureSasCredential.apply needs an absolute URL')
    }
    for (const name of new Set(this.#parameters.keys())) target.searchParams.delete(name)
    for (const [name, value] of this.#parameters) target.searchParams.append(name, value)
    return target.href
  }

  /** What `JSON.stringify` shows: nothing of the signature. */
  toJSON(): Record<string, never> {
    return {}
  }
}

/**
 * The official `@azure/core-auth` spelling of {@link AzureSasCredential}: the same class (same
 * constructor, `update()`, `apply()`, `instanceof` either name), so code written for the official
 * `AzureSASCredential` works unchanged.
 * @throws AzcredError AZCRED_CONFIG_INVALID for an empty SAS or one without `sig`.
 * @example const sas = new AzureSASCredential(process.env.BLOB_SAS ?? '')
 */
export const AzureSASCredential = AzureSasCredential
/** The official spelling of {@link AzureSasCredential}'s instance type. */
export type AzureSASCredential = AzureSasCredential
