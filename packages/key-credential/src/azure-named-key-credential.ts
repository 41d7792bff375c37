import { assertNonEmpty } from '@azcred/core'

/**
 * An account name and key (Storage, Cosmos DB, Event Hubs and Service Bus SAS keys), rotatable with
 * `update()`. Structurally `@azure/core-auth`'s `NamedKeyCredential`. The key never shows in
 * `JSON.stringify`, `util.inspect` or an error.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID for an empty name or key.
 * @example const credential = new AzureNamedKeyCredential('devstoreaccount1', accountKey)
 */
export class AzureNamedKeyCredential {
  #name: string
  #key: string

  constructor(name: string, key: string) {
    assertNonEmpty(name, 'AzureNamedKeyCredential name', 'pass the account name')
    assertNonEmpty(key, 'AzureNamedKeyCredential key', 'pass the account key (base64, from Access keys)')
    this.#name = name
    this.#key = key
  }

  /** The account name. */
  get name(): string {
    return this.#name
  }

  /** The current key. */
  get key(): string {
    return this.#key
  }

  /**
   * Replaces name and key together (a rotation may switch to the secondary key).
   * @throws AzcredError AZCRED_CONFIG_INVALID for an empty name or key.
   */
  update(newName: string, newKey: string): void {
    assertNonEmpty(newName, 'AzureNamedKeyCredential.update name', 'pass the account name')
    assertNonEmpty(newKey, 'AzureNamedKeyCredential.update key', 'pass the new account key')
    this.#name = newName
    this.#key = newKey
  }

  /** What `JSON.stringify` shows: the name only. */
  toJSON(): { name: string } {
    return { name: this.#name }
  }
}
