import { AzcredError, assertNonEmpty } from '@azcred/core'

/** Options of {@link AzureKeyCredential}. */
export interface AzureKeyCredentialOptions {
  /** The header the key is sent in, such as `api-key` or `Ocp-Apim-Subscription-Key`. Default `api-key`. */
  header?: string
}

/**
 * An API key (Cognitive Services, Search, OpenAI, API Management), rotatable with `update()`.
 * Structurally `@azure/core-auth`'s `KeyCredential`, so official clients accept it. The key is held in
 * a private field: it shows in no `JSON.stringify`, `util.inspect` or error.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID for an empty key or header name.
 * @example
 * const credential = new AzureKeyCredential(process.env.SEARCH_API_KEY ?? '', { header: 'api-key' })
 * headers.set(credential.header, credential.key)
 */
export class AzureKeyCredential {
  /** The header the key goes in. */
  readonly header: string
  #key: string

  constructor(key: string, options: AzureKeyCredentialOptions = {}) {
    assertNonEmpty(key, 'AzureKeyCredential key', 'pass the API key from the resource (Keys and Endpoint)')
    const header = options.header ?? 'api-key'
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) {
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'AzureKeyCredential options.header is not a valid header name: use a name such as api-key')
    }
    this.#key = key
    this.header = header
  }

  /** The current key. */
  get key(): string {
    return this.#key
  }

  /**
   * Replaces the key (after a rotation); requests signed afterwards use the new one.
   * @throws AzcredError AZCRED_CONFIG_INVALID for an empty key.
   */
  update(newKey: string): void {
    assertNonEmpty(newKey, 'AzureKeyCredential.update key', 'pass the new API key')
    this.#key = newKey
  }
}
