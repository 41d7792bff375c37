import { unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  type AuthenticationRecord,
  AzcredError,
  deserializeAuthenticationRecord,
  serializeAuthenticationRecord,
  type TokenCache,
  tokenCacheKey,
} from '@azcred/core'
import { clearImpossibleLock, ensurePrivateDirectory, leftovers, moveAside, pruneMovedAside, readPrivateFile, replacePrivateFile } from './token-cache-file-fs'
import { type CacheKey, ENV_TOKEN_CACHE_KEY, environmentKey, fileKey, keyringKey, open, seal, type TokenCacheKeySource } from './token-cache-file-key'
import { userDirectories } from './token-cache-file-paths'

/**
 * The official persistence options (`@azure/identity`'s `tokenCachePersistenceOptions`).
 * @public
 */
export interface TokenCachePersistenceOptions {
  /** Must be `true`: the persistent cache is on by choice only. */
  enabled: boolean
  /** The cache's name: several apps keep separate caches. 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.`. Default `'azcred'`. */
  name?: string
  /** Store tokens in plaintext (mode 0600) instead of encrypted. Default `false`: encrypted, and never plaintext without this. */
  unsafeAllowUnencryptedStorage?: boolean
}

/**
 * Options of {@link persistentTokenCache}: the official shape plus azcred's own.
 * @public
 */
export interface FileTokenCacheOptions extends TokenCachePersistenceOptions {
  /**
   * The directory of the cache file (`<name>.cache.json`) and key file (`<name>.key`). Default: the
   * platform's user data directory (from `env-paths`: `~/.local/share/azcred` on Linux or `$XDG_DATA_HOME/azcred`,
   * `~/Library/Application Support/azcred` on macOS, `%LOCALAPPDATA%\azcred\Data` on Windows). Made with mode
   * 0700; refused when it is a symbolic link, another user's, or open to group or others.
   */
  directory?: string
  /**
   * Where the encryption key comes from. `'auto'` (default): `AZCRED_TOKEN_CACHE_KEY` when set, else an existing
   * key file, else the OS keyring (optional `@napi-rs/keyring`), else a new key file. The others use that source only.
   */
  keySource?: 'auto' | TokenCacheKeySource
  /** Most entries in the file, 1 to 100 000; at the limit expired entries go, then the oldest written. Default 1000. */
  maxEntries?: number
  /** Largest file, in bytes, 64 KiB to 64 MiB; the oldest entries go to stay under it, and a longer file is moved aside. Default 4 MiB. */
  maxFileBytes?: number
  /** Receives {@link FileTokenCacheEvent}s (no secret in any). A listener that throws is ignored. */
  onEvent?: (event: FileTokenCacheEvent) => void
}

/**
 * Why a cache file was moved aside: not JSON or not a cache (`unreadable`), longer than `maxFileBytes`
 * (`too-large`), encrypted with another key (`key-mismatch`), changed or cut short (`undecryptable`),
 * plaintext where encryption is on or the other way round (`format-mismatch`).
 * @public
 */
export type MovedAsideReason = 'unreadable' | 'too-large' | 'key-mismatch' | 'undecryptable' | 'format-mismatch'

/**
 * What the cache reports. Paths and reasons only; never a token, key or account.
 * @public
 */
export type FileTokenCacheEvent =
  | {
      type: 'cache-file-moved-aside'
      path: string
      movedTo: string
      reason: MovedAsideReason
      /** Older moved-aside files removed to keep the newest {@link MAX_MOVED_ASIDE_FILES} (when any were). */
      olderRemoved?: number
    }
  | { type: 'cache-file-refused'; path: string; message: string }
  | { type: 'cache-key'; source: TokenCacheKeySource; keyringUnavailable?: string }
  | { type: 'cache-lock-compromised'; path: string }
  | { type: 'cache-scrubbed'; path: string; entriesRemoved: number; filesRemoved: number }

/**
 * What {@link FileTokenCache.scrub} removes.
 * @public
 */
export interface ScrubOptions {
  /** Only this account's entries (its `homeAccountId`): tokens, refresh token and saved AuthenticationRecord. Default: everything. */
  account?: string
}

/**
 * Most files moved aside kept beside a cache file; at the next move the oldest go (the event says how many).
 * @public
 */
export const MAX_MOVED_ASIDE_FILES = 5

/** The version of the file format this code writes; a newer one is left alone (neither read nor overwritten). */
export const TOKEN_CACHE_FILE_VERSION = 1
const FORMAT = 'azcred-token-cache'
const NAME = /^(?!\.)[\w.-]{1,64}$/
/** How long a lock left by a process that died is honoured, ms (proper-lockfile's stale lock recovery). */
const STALE_LOCK_MS = 10_000

interface Entry {
  v: string
  /** Expiry, ms since the epoch; 0 = none (saved AuthenticationRecords). */
  e: number
}
type Entries = Map<string, Entry>
type Loaded = { entries: Entries; exists: boolean; problem?: MovedAsideReason | 'newer-version' }

const configInvalid = (message: string): AzcredError => new AzcredError('AZCRED_CONFIG_INVALID', message)

function checkNumber(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw configInvalid(`${name} must be a whole number from ${min} to ${max}`)
  }
  return value
}

/** The partition fields of a core cache key (a JSON array), or undefined. */
function keyFields(key: string): unknown[] | undefined {
  try {
    const fields: unknown = JSON.parse(key)
    return Array.isArray(fields) ? fields : undefined
  } catch {
    return undefined
  }
}

/** The `account` a cache value names (core's entries carry it), or undefined. */
function valueAccount(value: string): unknown {
  try {
    return (JSON.parse(value) as { account?: unknown }).account
  } catch {
    return undefined
  }
}

/**
 * A {@link TokenCache} in one file, shared by every process of the user that opens the same name: encrypted
 * with AES-256-GCM (unless `unsafeAllowUnencryptedStorage`), replaced atomically (temporary file + rename)
 * under a cross-process lock (`proper-lockfile`, a lock left by a dead process is taken over after 10 s),
 * mode 0600 in a 0700 directory. A file that cannot be read (corrupt, cut short, encrypted with another key)
 * is moved aside as `<file>.corrupt-<time>-<random>`, reported in a `cache-file-moved-aside` event, and the
 * cache starts empty. Make one with {@link persistentTokenCache}.
 * @public
 */
export class FileTokenCache implements TokenCache {
  /** The cache file. */
  readonly path: string
  /** Its directory. */
  readonly directory: string
  /** The cache's name. */
  readonly name: string
  /** False only with `unsafeAllowUnencryptedStorage: true`. */
  readonly encrypted: boolean
  readonly #keySource: 'auto' | TokenCacheKeySource
  readonly #maxEntries: number
  readonly #maxFileBytes: number
  readonly #onEvent?: (event: FileTokenCacheEvent) => void
  #ready?: Promise<void>
  #key?: Promise<CacheKey>
  /** This instance's changes, one after another (the file lock orders them across processes). */
  #changes: Promise<unknown> = Promise.resolve()

  /** @internal For azcred's own packages; not covered by semver. Use {@link persistentTokenCache}. */
  constructor(options: FileTokenCacheOptions) {
    if (options === null || typeof options !== 'object') throw configInvalid('tokenCachePersistenceOptions must be an object such as { enabled: true }')
    const { enabled, name = 'azcred', unsafeAllowUnencryptedStorage = false, directory, keySource = 'auto', onEvent } = options
    if (enabled !== true) {
      throw configInvalid('tokenCachePersistenceOptions.enabled must be true to keep tokens on disk (the persistent cache is on by choice only)')
    }
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw configInvalid('tokenCachePersistenceOptions.name must be 1 to 64 letters, digits, ".", "_" or "-", not starting with "."')
    }
    if (typeof unsafeAllowUnencryptedStorage !== 'boolean')
      throw configInvalid('tokenCachePersistenceOptions.unsafeAllowUnencryptedStorage must be true or false')
    if (directory !== undefined && (typeof directory !== 'string' || directory === '' || directory.includes('\0'))) {
      throw configInvalid('tokenCachePersistenceOptions.directory must be a non-empty path')
    }
    if (!['auto', 'environment', 'keyring', 'file'].includes(keySource)) {
      throw configInvalid(`tokenCachePersistenceOptions.keySource must be 'auto', 'environment', 'keyring' or 'file'`)
    }
    if (onEvent !== undefined && typeof onEvent !== 'function') throw configInvalid('tokenCachePersistenceOptions.onEvent must be a function')
    this.#maxEntries = checkNumber(options.maxEntries, 'tokenCachePersistenceOptions.maxEntries', 1, 100_000, 1000)
    this.#maxFileBytes = checkNumber(options.maxFileBytes, 'tokenCachePersistenceOptions.maxFileBytes', 65_536, 67_108_864, 4_194_304)
    this.name = name
    this.encrypted = !unsafeAllowUnencryptedStorage
    this.directory = resolve(directory ?? userDirectories().data)
    this.path = join(this.directory, `${name}.cache.json`)
    this.#keySource = keySource
    this.#onEvent = onEvent
  }

  /** The value stored under `key`, or undefined (none, expired, or the file could not be read: see the events). */
  async read(key: string): Promise<string | undefined> {
    let loaded = await this.#guard(() => this.#load())
    if (loaded.problem !== undefined && loaded.problem !== 'newer-version') loaded = await this.#update(() => {}, false)
    const entry = loaded.entries.get(key)
    return entry !== undefined && (entry.e === 0 || entry.e > Date.now()) ? entry.v : undefined
  }

  /** Stores `value` under `key` until `expiresOnTimestamp` (ms since the epoch). */
  async write(key: string, value: string, expiresOnTimestamp: number): Promise<void> {
    const expires = Number.isFinite(expiresOnTimestamp) && expiresOnTimestamp > 0 ? expiresOnTimestamp : 1
    await this.#update((entries) => {
      entries.delete(key)
      entries.set(key, { v: value, e: expires })
    })
  }

  /** Removes the entry under `key`, if any. */
  async remove(key: string): Promise<void> {
    await this.#update((entries) => {
      entries.delete(key)
    })
  }

  /**
   * Removes secrets from the file: every entry (and the files moved aside and temporary files beside it),
   * or with `account` only that account's tokens, refresh token and saved AuthenticationRecord. The file is
   * rewritten, so its bytes hold no removed secret afterwards. A file of a newer format version is removed by
   * `scrub()` (it cannot be read, but signing out must not leave its secrets); `scrub({ account })` refuses it.
   */
  async scrub(options: ScrubOptions = {}): Promise<void> {
    const account = options?.account
    if (account !== undefined && (typeof account !== 'string' || account === '')) throw configInvalid('scrub: account must be a homeAccountId')
    let removed = 0
    let filesRemoved = 0
    const loaded = await this.#update(
      async (entries) => {
        for (const [key, entry] of [...entries]) {
          if (account === undefined || keyFields(key)?.[3] === account || valueAccount(entry.v) === account) {
            entries.delete(key)
            removed += 1
          }
        }
        if (account === undefined) {
          for (const file of await leftovers(this.path)) {
            await unlink(file).then(
              () => {
                filesRemoved += 1
              },
              () => {},
            )
          }
        }
      },
      false,
      account === undefined,
    )
    if (loaded.problem === 'newer-version') filesRemoved += 1
    this.#emit({ type: 'cache-scrubbed', path: this.path, entriesRemoved: removed, filesRemoved })
  }

  /**
   * Keeps `record` in the cache file (encrypted with it), so a restarted process finds its account without a
   * prompt. One record per authority, client and account; the newest is found first.
   */
  async saveAuthenticationRecord(record: AuthenticationRecord): Promise<void> {
    const value = serializeAuthenticationRecord(record)
    const { authority, clientId, homeAccountId, tenantId } = record
    const key = tokenCacheKey({ kind: 'account', authority, clientId: clientId.toLowerCase(), account: homeAccountId, tenantId, scopes: '', cae: false })
    await this.#update((entries) => {
      entries.delete(key)
      entries.set(key, { v: value, e: 0 })
    })
  }

  /**
   * The newest saved AuthenticationRecord, of `clientId` (compared without case) and `authority` when given;
   * undefined when there is none.
   */
  async loadAuthenticationRecord(filter: { clientId?: string; authority?: string } = {}): Promise<AuthenticationRecord | undefined> {
    const { clientId, authority } = filter ?? {}
    let loaded = await this.#guard(() => this.#load())
    if (loaded.problem !== undefined && loaded.problem !== 'newer-version') loaded = await this.#update(() => {}, false)
    for (const [key, entry] of [...loaded.entries].reverse()) {
      const fields = keyFields(key)
      if (fields?.[0] !== 'account') continue
      if (clientId !== undefined && fields[2] !== clientId.toLowerCase()) continue
      if (authority !== undefined && fields[1] !== authority.toLowerCase()) continue
      try {
        return deserializeAuthenticationRecord(entry.v)
      } catch {}
    }
    return undefined
  }

  /** What `JSON.stringify` shows: where the cache is and whether it is encrypted. */
  toJSON(): { path: string; encrypted: boolean } {
    return { path: this.path, encrypted: this.encrypted }
  }

  #emit(event: FileTokenCacheEvent): void {
    try {
      this.#onEvent?.(event)
    } catch {}
  }

  /** Runs `operation`; a refusal (AZCRED_CONFIG_INVALID: permissions, symlink, owner, key) is also reported as an event. */
  async #guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (error) {
      if (AzcredError.isInstance(error)) this.#emit({ type: 'cache-file-refused', path: this.path, message: error.message })
      throw error
    }
  }

  #prepare(): Promise<void> {
    this.#ready ??= ensurePrivateDirectory(this.directory).catch((error) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  #cacheKey(): Promise<CacheKey> {
    this.#key ??= this.#findKey().catch((error) => {
      this.#key = undefined
      throw error
    })
    return this.#key
  }

  async #findKey(): Promise<CacheKey> {
    const source = this.#keySource
    const keyFile = join(this.directory, `${this.name}.key`)
    if (source === 'environment' || source === 'auto') {
      const key = environmentKey(process.env)
      if (key !== undefined) return this.#announce(key)
      if (source === 'environment') throw configInvalid(`keySource is 'environment' but ${ENV_TOKEN_CACHE_KEY} is not set: set it to 32 random bytes in base64`)
    }
    if (source === 'file') return this.#announce(await fileKey(keyFile))
    // An existing key file first: a keyring that became reachable later must not orphan a file-keyed cache.
    const existing = source === 'auto' ? await fileKey(keyFile, false) : undefined
    if (existing !== undefined) return this.#announce(existing)
    let keyringUnavailable: string | undefined
    try {
      return this.#announce(await keyringKey(this.name))
    } catch (error) {
      keyringUnavailable = `${(error as { message?: unknown })?.message ?? error}`.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200)
      if (source === 'keyring') {
        throw configInvalid(
          `keySource is 'keyring' but the OS keyring cannot be used (${keyringUnavailable}): install @napi-rs/keyring and run where a keyring is unlocked, or use keySource 'auto'`,
        )
      }
    }
    return this.#announce(await fileKey(keyFile), keyringUnavailable)
  }

  #announce(key: CacheKey, keyringUnavailable?: string): CacheKey {
    this.#emit(keyringUnavailable === undefined ? { type: 'cache-key', source: key.source } : { type: 'cache-key', source: key.source, keyringUnavailable })
    return key
  }

  /** Reads and decodes the file, without the lock (a writer replaces it whole, so a read sees one version). */
  async #load(): Promise<Loaded> {
    await this.#prepare()
    const bytes = await readPrivateFile(this.path, 'token cache file', this.#maxFileBytes)
    const entries: Entries = new Map()
    if (bytes === undefined) return { entries, exists: false }
    const bad = (problem: Loaded['problem']): Loaded => ({ entries, exists: true, problem })
    if (bytes.length > this.#maxFileBytes) return bad('too-large')
    let file: Record<string, unknown>
    try {
      file = JSON.parse(bytes.toString('utf8'))
      if (file === null || typeof file !== 'object' || file.format !== FORMAT || !Number.isSafeInteger(file.version)) return bad('unreadable')
    } catch {
      return bad('unreadable')
    }
    if ((file.version as number) > TOKEN_CACHE_FILE_VERSION) return bad('newer-version')
    let body: unknown
    if (file.encryption === 'none' && !this.encrypted) {
      body = file.entries
    } else if (file.encryption === 'aes-256-gcm' && this.encrypted) {
      const key = await this.#cacheKey()
      if (file.keyId !== key.id) return bad('key-mismatch')
      const text = open(key, file, `${FORMAT}/${file.version}/${key.id}`)
      if (text === undefined) return bad('undecryptable')
      try {
        body = JSON.parse(text)
      } catch {
        return bad('undecryptable')
      }
    } else {
      return bad(file.encryption === 'none' || file.encryption === 'aes-256-gcm' ? 'format-mismatch' : 'unreadable')
    }
    if (body === null || typeof body !== 'object') return bad('unreadable')
    for (const [key, entry] of Object.entries(body as Record<string, Partial<Entry>>)) {
      if (typeof entry?.v === 'string' && typeof entry.e === 'number') entries.set(key, { v: entry.v, e: entry.e })
    }
    return { entries, exists: true }
  }

  /**
   * Under the cross-process lock: reads the file (moving an unreadable one aside), applies `change`, drops
   * expired entries and keeps the bounds, and replaces the file atomically.
   */
  #update(change: (entries: Entries) => void | Promise<void>, create = true, removeNewer = false): Promise<Loaded> {
    const run = this.#changes.then(() => this.#locked(change, create, removeNewer))
    this.#changes = run.catch(() => {})
    return run
  }

  async #locked(change: (entries: Entries) => void | Promise<void>, create: boolean, removeNewer: boolean): Promise<Loaded> {
    return this.#guard(async () => {
      await this.#prepare()
      // Loaded on the first change only: a process that only reads (a second process's first token) never pays for it.
      const { lock } = await import('proper-lockfile')
      const lockfilePath = `${this.path}.lock`
      await clearImpossibleLock(lockfilePath, STALE_LOCK_MS)
      const release = await lock(this.path, {
        realpath: false,
        lockfilePath,
        stale: STALE_LOCK_MS,
        // Bounded: at most 400 tries, 5 to 60 ms apart (about 25 s), then the call fails.
        retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 60, randomize: true },
        onCompromised: () => this.#emit({ type: 'cache-lock-compromised', path: this.path }),
      })
      try {
        let loaded = await this.#load()
        if (loaded.problem === 'newer-version' && removeNewer) {
          // A whole scrub (sign out) removes a file it cannot read: its secrets must go all the same.
          await unlink(this.path)
          loaded = { entries: new Map(), exists: false, problem: 'newer-version' }
        } else if (loaded.problem === 'newer-version') {
          throw configInvalid(
            `the token cache file ${this.path} was written by a newer @azcred/token-cache-file (a later format version): it is left as is; update this package, or use another tokenCachePersistenceOptions.name`,
          )
        }
        if (loaded.problem !== undefined && loaded.problem !== 'newer-version') {
          const movedTo = await moveAside(this.path)
          const olderRemoved = await pruneMovedAside(this.path, MAX_MOVED_ASIDE_FILES)
          this.#emit(
            olderRemoved === 0
              ? { type: 'cache-file-moved-aside', path: this.path, movedTo, reason: loaded.problem }
              : { type: 'cache-file-moved-aside', path: this.path, movedTo, reason: loaded.problem, olderRemoved },
          )
          loaded = { entries: new Map(), exists: false }
        }
        await change(loaded.entries)
        this.#bound(loaded.entries)
        if (create || loaded.exists) await replacePrivateFile(this.path, await this.#serialize(loaded.entries))
        return loaded
      } finally {
        await release().catch(() => {})
      }
    })
  }

  /** Drops expired entries, then the oldest written until at most maxEntries remain and the file fits maxFileBytes. */
  #bound(entries: Entries): void {
    const now = Date.now()
    let bytes = 200
    for (const [key, entry] of entries) {
      if (entry.e !== 0 && entry.e <= now) entries.delete(key)
      else bytes += key.length + entry.v.length + 32
    }
    // Encryption and base64 make the body about 4/3 longer.
    const budget = this.encrypted ? (this.#maxFileBytes * 3) / 4 - 200 : this.#maxFileBytes
    for (const [key, entry] of entries) {
      if (entries.size <= this.#maxEntries && bytes <= budget) break
      entries.delete(key)
      bytes -= key.length + entry.v.length + 32
    }
  }

  async #serialize(entries: Entries): Promise<string> {
    const body = Object.fromEntries(entries)
    if (!this.encrypted) return `${JSON.stringify({ format: FORMAT, version: TOKEN_CACHE_FILE_VERSION, encryption: 'none', entries: body })}\n`
    const key = await this.#cacheKey()
    const sealed = seal(key, JSON.stringify(body), `${FORMAT}/${TOKEN_CACHE_FILE_VERSION}/${key.id}`)
    return `${JSON.stringify({ format: FORMAT, version: TOKEN_CACHE_FILE_VERSION, encryption: 'aes-256-gcm', keySource: key.source, keyId: key.id, ...sealed })}\n`
  }
}

/**
 * The persistent {@link TokenCache} for `tokenCachePersistenceOptions`: one encrypted file per `name` in the
 * user's data directory (see {@link FileTokenCacheOptions}). Nothing touches the disk until the first read or write.
 * @throws AzcredError AZCRED_CONFIG_INVALID for `enabled` not true, a bad name or option. Reads and writes reject
 *   with AZCRED_CONFIG_INVALID (and a `cache-file-refused` event) for a directory or file that is a symbolic link,
 *   another user's or open to others, naming the path and the fix; a credential goes on without the cache then.
 * @example
 * const tokenCache = persistentTokenCache({ enabled: true, name: 'my-tool' })
 * const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, { tokenCache })
 * @public
 */
export function persistentTokenCache(options: FileTokenCacheOptions): FileTokenCache {
  return new FileTokenCache(options)
}
