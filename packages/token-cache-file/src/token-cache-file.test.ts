import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { AzcredError, serializeTokenCacheEntry, tokenCacheKey } from '@azcred/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ENV_TOKEN_CACHE_KEY, type FileTokenCacheEvent, type FileTokenCacheOptions, persistentTokenCache } from './index'

const childScript = fileURLToPath(new URL('./__fixtures__/cache-child.mjs', import.meta.url))
const packageFolder = fileURLToPath(new URL('..', import.meta.url))
const REFRESH_TOKEN = `rt-PLANTED-${randomBytes(12).toString('hex')}`
const ACCESS_TOKEN = `at-PLANTED-${randomBytes(12).toString('hex')}`
const HOUR = 3_600_000

let root: string
let directory: string
const savedKey = process.env[ENV_TOKEN_CACHE_KEY]

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'azcred-tcf-'))
  directory = join(root, 'cache')
  delete process.env[ENV_TOKEN_CACHE_KEY]
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
  if (savedKey === undefined) delete process.env[ENV_TOKEN_CACHE_KEY]
  else process.env[ENV_TOKEN_CACHE_KEY] = savedKey
})

function make(options: Partial<FileTokenCacheOptions> = {}, events: FileTokenCacheEvent[] = []) {
  return persistentTokenCache({ enabled: true, name: 'test', directory, onEvent: (event) => events.push(event), ...options })
}

/** A user's entries as core writes them: an access token for one resource, the refresh token in its own entry. */
function userEntries(account: string, refreshToken: string, accessToken: string): [{ key: string; value: string }, { key: string; value: string }] {
  const base = { authority: 'https://login.example', clientId: 'app', account, tenantId: 'tenant', cae: false }
  return [
    {
      key: tokenCacheKey({ ...base, kind: 'access_token', scopes: 'https://storage.azure.com/.default' }),
      value: serializeTokenCacheEntry({ accessToken: { token: accessToken, expiresOnTimestamp: Date.now() + HOUR }, account }),
    },
    { key: tokenCacheKey({ ...base, kind: 'refresh_token', tenantId: '', scopes: '' }), value: serializeTokenCacheEntry({ refreshToken, account }) },
  ]
}

/** Runs the child fixture (the built package) with a JSON command; resolves its JSON answer. */
function child(command: Record<string, unknown>, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [childScript, JSON.stringify(command)],
      { cwd: packageFolder, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`child failed: ${error.message} ${stderr.slice(0, 500)}`))
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string))
      },
    )
  })
}

const mode = (path: string): number => statSync(path).mode & 0o777

describe('persistentTokenCache: options', () => {
  it('is on by choice only and checks its name', () => {
    expect(() => persistentTokenCache({ enabled: false })).toThrow(/enabled must be true/)
    expect(() => persistentTokenCache({ enabled: true, name: '../x' })).toThrow(/name must be/)
    expect(() => persistentTokenCache({ enabled: true, name: '.hidden' })).toThrow(/name must be/)
    expect(() => persistentTokenCache({ enabled: true, maxEntries: 0 })).toThrow(/maxEntries/)
    expect(() => persistentTokenCache({ enabled: true, keySource: 'cloud' as never })).toThrow(/keySource/)
    // Default: the platform's user data directory, one file per name.
    const first = persistentTokenCache({ enabled: true, name: 'app-one' })
    const second = persistentTokenCache({ enabled: true, name: 'app-two' })
    expect(first.path).toMatch(/azcred[/\\]app-one\.cache\.json$/)
    expect(second.path).not.toBe(first.path)
    expect(first.encrypted).toBe(true)
  })
})

describe('FileTokenCache: on disk', () => {
  it('round-trips entries, encrypted at rest, file 0600 in a 0700 directory, key file 0600', async () => {
    const events: FileTokenCacheEvent[] = []
    const cache = make({}, events)
    const [access, refresh] = userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)
    await cache.write(access.key, access.value, Date.now() + HOUR)
    await cache.write(refresh.key, refresh.value, Date.now() + 90 * 24 * HOUR)
    expect(await cache.read(access.key)).toBe(access.value)
    // Another instance (a restarted process) reads the same file.
    expect(await make().read(refresh.key)).toBe(refresh.value)
    const raw = readFileSync(cache.path, 'utf8')
    expect(raw).not.toContain(REFRESH_TOKEN)
    expect(raw).not.toContain(ACCESS_TOKEN)
    expect(raw).not.toContain('u1.t1')
    expect(JSON.parse(raw)).toMatchObject({ format: 'azcred-token-cache', version: 1, encryption: 'aes-256-gcm', keySource: 'file' })
    expect(mode(directory)).toBe(0o700)
    expect(mode(cache.path)).toBe(0o600)
    expect(mode(join(directory, 'test.key'))).toBe(0o600)
    // No keyring on this machine (or one that works): either way the source is reported, never a key.
    const keyEvent = events.find((event) => event.type === 'cache-key')
    expect(keyEvent).toBeDefined()
    // No temporary file is left.
    expect(readdirSync(directory).sort()).toEqual(['test.cache.json', 'test.key'])
  })

  it('expires entries and keeps at most maxEntries (the oldest written go first)', async () => {
    const cache = make({ maxEntries: 3 })
    await cache.write('gone', 'v', Date.now() + 50)
    for (const key of ['a', 'b', 'c', 'd']) await cache.write(key, `v-${key}`, Date.now() + HOUR)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(await cache.read('gone')).toBeUndefined()
    expect(await cache.read('a')).toBeUndefined()
    expect(await cache.read('d')).toBe('v-d')
    await cache.remove('d')
    expect(await cache.read('d')).toBeUndefined()
    expect(await cache.read('b')).toBe('v-b')
  })

  it('keeps the file under maxFileBytes by dropping the oldest entries', async () => {
    const cache = make({ maxFileBytes: 65_536 })
    for (let index = 0; index < 40; index += 1) await cache.write(`k${index}`, 'x'.repeat(4000), Date.now() + HOUR)
    expect(statSync(cache.path).size).toBeLessThanOrEqual(65_536)
    expect(await cache.read('k39')).toBe('x'.repeat(4000))
    expect(await cache.read('k0')).toBeUndefined()
  })

  it('takes the key from AZCRED_TOKEN_CACHE_KEY when set (no key file), and refuses a malformed one', async () => {
    process.env[ENV_TOKEN_CACHE_KEY] = randomBytes(32).toString('base64')
    const events: FileTokenCacheEvent[] = []
    const cache = make({}, events)
    await cache.write('k', 'v', Date.now() + HOUR)
    expect(events).toContainEqual({ type: 'cache-key', source: 'environment' })
    expect(existsSync(join(directory, 'test.key'))).toBe(false)
    process.env[ENV_TOKEN_CACHE_KEY] = 'not-a-key'
    const error = await make()
      .read('k')
      .catch((caught: unknown) => caught)
    expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
    expect(String((error as Error).message)).toMatch(/AZCRED_TOKEN_CACHE_KEY must be 32 random bytes/)
    expect(String((error as Error).message)).not.toContain('not-a-key')
  })

  it("keySource 'keyring' fails clearly where no keyring is reachable; 'auto' falls back to a key file and says why", async () => {
    const events: FileTokenCacheEvent[] = []
    const auto = make({}, events)
    await auto.write('k', 'v', Date.now() + HOUR)
    const keyEvent = events.find((event) => event.type === 'cache-key') as Extract<FileTokenCacheEvent, { type: 'cache-key' }>
    if (keyEvent.source === 'keyring') return // a desktop with an unlocked keyring: nothing to fall back from
    expect(keyEvent.source).toBe('file')
    expect(keyEvent.keyringUnavailable).toEqual(expect.any(String))
    // A write needs the key (a read of a missing file does not).
    const error = await make({ name: 'other', keySource: 'keyring' })
      .write('k', 'v', Date.now() + HOUR)
      .catch((caught: unknown) => caught)
    expect((error as AzcredError).code).toBe('AZCRED_CONFIG_INVALID')
    expect((error as Error).message).toMatch(/OS keyring cannot be used/)
  })

  it('stores plaintext only with unsafeAllowUnencryptedStorage: true (still 0600)', async () => {
    const cache = make({ unsafeAllowUnencryptedStorage: true })
    const [, refresh] = userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)
    await cache.write(refresh.key, refresh.value, Date.now() + HOUR)
    expect(readFileSync(cache.path, 'utf8')).toContain(REFRESH_TOKEN)
    expect(mode(cache.path)).toBe(0o600)
    expect(existsSync(join(directory, 'test.key'))).toBe(false)
  })

  it('recovers a stale lock left by a process that died', async () => {
    const cache = make()
    mkdirSync(directory, { recursive: true, mode: 0o700 })
    mkdirSync(`${cache.path}.lock`)
    const old = new Date(Date.now() - 60_000)
    utimesSync(`${cache.path}.lock`, old, old)
    const started = Date.now()
    await cache.write('k', 'v', Date.now() + HOUR)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(await cache.read('k')).toBe('v')
  })
})

describe('FileTokenCache: planted files — a clear outcome, nothing lost', () => {
  async function expectRefused(operation: Promise<unknown>, events: FileTokenCacheEvent[], pattern: RegExp, path: string) {
    const error = await operation.then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
    expect((error as Error).message).toMatch(pattern)
    expect((error as Error).message).toContain(path)
    expect(events).toContainEqual({ type: 'cache-file-refused', path: expect.any(String), message: (error as Error).message })
  }

  it('refuses a cache file open to others (names the path and chmod), and leaves it as it is', async () => {
    const cache = make()
    await cache.write('k', 'v', Date.now() + HOUR)
    chmodSync(cache.path, 0o644)
    const before = readFileSync(cache.path)
    const events: FileTokenCacheEvent[] = []
    await expectRefused(make({}, events).read('k'), events, /can be read or changed by other users \(mode 0644\).*chmod 600/, cache.path)
    await expectRefused(make({}, events).write('k2', 'v', Date.now() + HOUR), events, /mode 0644/, cache.path)
    expect(readFileSync(cache.path)).toEqual(before)
    chmodSync(cache.path, 0o600)
    expect(await make().read('k')).toBe('v')
  })

  it('refuses a directory open to others, a key file open to others, and a file owned by another user', async () => {
    const cache = make()
    await cache.write('k', 'v', Date.now() + HOUR)
    const events: FileTokenCacheEvent[] = []
    chmodSync(directory, 0o755)
    await expectRefused(make({}, events).read('k'), events, /token cache directory .* \(mode 0755\).*chmod 700/, directory)
    chmodSync(directory, 0o700)
    chmodSync(join(directory, 'test.key'), 0o640)
    await expectRefused(make({}, events).read('k'), events, /token cache key file .* \(mode 0640\)/, join(directory, 'test.key'))
    chmodSync(join(directory, 'test.key'), 0o600)
    if (process.getuid?.() === 0) {
      // Only root can give a file away; elsewhere this part is covered by the mode checks.
      chownSync(cache.path, 4321, 4321)
      await expectRefused(make({}, events).read('k'), events, /owned by another user \(uid 4321/, cache.path)
      chownSync(cache.path, 0, 0)
    }
    expect(await make().read('k')).toBe('v')
  })

  it('refuses a symbolic link in place of the file or the directory, and never writes through it', async () => {
    mkdirSync(directory, { recursive: true, mode: 0o700 })
    const target = join(root, 'elsewhere.json')
    writeFileSync(target, 'do not touch', { mode: 0o600 })
    symlinkSync(target, join(directory, 'test.cache.json'))
    const events: FileTokenCacheEvent[] = []
    await expectRefused(make({}, events).read('k'), events, /is a symbolic link: it is not followed/, join(directory, 'test.cache.json'))
    await expectRefused(make({}, events).write('k', 'v', Date.now() + HOUR), events, /symbolic link/, join(directory, 'test.cache.json'))
    expect(readFileSync(target, 'utf8')).toBe('do not touch')

    const real = join(root, 'real')
    mkdirSync(real, { mode: 0o700 })
    const linked = join(root, 'linked')
    symlinkSync(real, linked)
    const linkEvents: FileTokenCacheEvent[] = []
    await expectRefused(make({ directory: linked }, linkEvents).write('k', 'v', Date.now() + HOUR), linkEvents, /directory .* is a symbolic link/, linked)
    expect(readdirSync(real)).toEqual([])
  })

  it.each([
    [
      'a corrupt body',
      (path: string) => writeFileSync(path, '{"format":"azcred-token-cache","version":1,"encryption":"aes-256-gcm",', { mode: 0o600 }),
      'unreadable',
    ],
    ['garbage', (path: string) => writeFileSync(path, randomBytes(300), { mode: 0o600 }), 'unreadable'],
    [
      'a truncated encrypted body',
      (path: string) => {
        const file = JSON.parse(readFileSync(path, 'utf8'))
        file.data = file.data.slice(0, 8)
        writeFileSync(path, JSON.stringify(file), { mode: 0o600 })
      },
      'undecryptable',
    ],
    [
      'a body encrypted with another key',
      (path: string) => {
        // Re-encrypted by a cache keyed from the environment with another key.
        writeFileSync(path, readFileSync(`${path}.other`), { mode: 0o600 })
      },
      'key-mismatch',
    ],
  ] as const)('moves %s aside (kept, reported), then works as an empty cache', async (_label, damage, reason) => {
    const cache = make()
    await cache.write('k', 'v', Date.now() + HOUR)
    // A file of the same name written under another key (for the last case).
    process.env[ENV_TOKEN_CACHE_KEY] = randomBytes(32).toString('base64')
    const otherDirectory = join(root, 'other')
    const other = make({ directory: otherDirectory })
    await other.write('k', 'other', Date.now() + HOUR)
    delete process.env[ENV_TOKEN_CACHE_KEY]
    writeFileSync(`${cache.path}.other`, readFileSync(other.path))
    damage(cache.path)
    rmSync(`${cache.path}.other`)
    const damaged = readFileSync(cache.path)

    const events: FileTokenCacheEvent[] = []
    const reader = make({}, events)
    expect(await reader.read('k')).toBeUndefined()
    const moved = events.find((event) => event.type === 'cache-file-moved-aside') as Extract<FileTokenCacheEvent, { type: 'cache-file-moved-aside' }>
    expect(moved).toMatchObject({ path: cache.path, reason })
    expect(moved.movedTo).toMatch(/test\.cache\.json\.corrupt-\d{8}T\d{6}Z-[0-9a-f]{6}$/)
    // Nothing lost: the damaged bytes are kept, byte for byte, owner-only.
    expect(readFileSync(moved.movedTo)).toEqual(damaged)
    expect(mode(moved.movedTo)).toBe(0o600)
    // The cache goes on.
    await reader.write('k', 'fresh', Date.now() + HOUR)
    expect(await make().read('k')).toBe('fresh')
  })

  it('leaves a file of a newer format version alone: reads miss, writes are refused, nothing is moved', async () => {
    const cache = make()
    mkdirSync(directory, { recursive: true, mode: 0o700 })
    const newer = JSON.stringify({ format: 'azcred-token-cache', version: 2, whatever: true })
    writeFileSync(cache.path, newer, { mode: 0o600 })
    expect(await cache.read('k')).toBeUndefined()
    await expect(cache.write('k', 'v', Date.now() + HOUR)).rejects.toThrow(/written by a newer @azcred\/token-cache-file/)
    expect(readFileSync(cache.path, 'utf8')).toBe(newer)
    expect(readdirSync(directory).filter((name) => name.includes('corrupt'))).toEqual([])
  })
})

describe('FileTokenCache: scrub and sign out', () => {
  it('scrub() leaves no secret bytes in the file or beside it', async () => {
    const cache = make({ unsafeAllowUnencryptedStorage: true })
    for (const { key, value } of userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)) await cache.write(key, value, Date.now() + HOUR)
    // A moved-aside copy and a temporary file left by a crashed writer hold secrets too.
    writeFileSync(`${cache.path}.corrupt-20260101T000000Z-abcdef`, REFRESH_TOKEN, { mode: 0o600 })
    writeFileSync(`${cache.path}.123.abc.tmp`, ACCESS_TOKEN, { mode: 0o600 })
    expect(readFileSync(cache.path, 'utf8')).toContain(REFRESH_TOKEN)
    const events: FileTokenCacheEvent[] = []
    await make({ unsafeAllowUnencryptedStorage: true }, events).scrub()
    for (const name of readdirSync(directory)) {
      const raw = readFileSync(join(directory, name), 'latin1')
      expect(raw).not.toContain(REFRESH_TOKEN)
      expect(raw).not.toContain(ACCESS_TOKEN)
    }
    expect(readdirSync(directory)).toEqual(['test.cache.json'])
    expect(events).toContainEqual({ type: 'cache-scrubbed', path: cache.path, entriesRemoved: 2, filesRemoved: 2 })
  })

  it('scrub({ account }) removes only that account: tokens, refresh token, saved record', async () => {
    const cache = make({ unsafeAllowUnencryptedStorage: true })
    const otherRefresh = `rt-OTHER-${randomBytes(8).toString('hex')}`
    for (const { key, value } of userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)) await cache.write(key, value, Date.now() + HOUR)
    for (const { key, value } of userEntries('u2.t1', otherRefresh, 'at-other')) await cache.write(key, value, Date.now() + HOUR)
    const record = { authority: 'login.example', homeAccountId: 'u1.t1', clientId: 'app', tenantId: 'tenant', username: 'ada@example.com' }
    await cache.saveAuthenticationRecord(record)
    await cache.scrub({ account: 'u1.t1' })
    const raw = readFileSync(cache.path, 'utf8')
    expect(raw).not.toContain(REFRESH_TOKEN)
    expect(raw).not.toContain(ACCESS_TOKEN)
    expect(raw).not.toContain('ada@example.com')
    expect(raw).toContain(otherRefresh)
    expect(await cache.loadAuthenticationRecord()).toBeUndefined()
  })

  it('scrub() of an encrypted cache: the decrypted body is empty too', async () => {
    const key = randomBytes(32)
    process.env[ENV_TOKEN_CACHE_KEY] = key.toString('base64')
    const cache = make()
    for (const { key: entryKey, value } of userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)) await cache.write(entryKey, value, Date.now() + HOUR)
    await cache.scrub()
    const { createDecipheriv } = await import('node:crypto')
    const file = JSON.parse(readFileSync(cache.path, 'utf8'))
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.iv, 'base64'))
    decipher.setAAD(Buffer.from(`azcred-token-cache/1/${file.keyId}`))
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'))
    const body = Buffer.concat([decipher.update(Buffer.from(file.data, 'base64')), decipher.final()]).toString('utf8')
    expect(body).toBe('{}')
  })
})

describe('FileTokenCache: AuthenticationRecords', () => {
  it('saves records beside the tokens (encrypted) so a restarted process finds its account', async () => {
    const record = { authority: 'login.example', homeAccountId: 'u1.t1', clientId: 'App-Id', tenantId: 'tenant', username: 'ada@example.com' }
    await make().saveAuthenticationRecord(record)
    await make().saveAuthenticationRecord({ ...record, clientId: 'other-app', homeAccountId: 'u9.t1' })
    expect(readFileSync(join(directory, 'test.cache.json'), 'utf8')).not.toContain('ada@example.com')
    expect(await make().loadAuthenticationRecord({ clientId: 'app-id' })).toEqual(record)
    expect(await make().loadAuthenticationRecord({ clientId: 'app-id', authority: 'elsewhere.example' })).toBeUndefined()
    expect((await make().loadAuthenticationRecord())?.homeAccountId).toBe('u9.t1')
  })
})

describe('FileTokenCache: secrets', () => {
  it('no token or key in util.inspect, JSON.stringify, events or errors', async () => {
    const key = randomBytes(32).toString('base64')
    process.env[ENV_TOKEN_CACHE_KEY] = key
    const events: FileTokenCacheEvent[] = []
    const cache = make({}, events)
    for (const entry of userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)) await cache.write(entry.key, entry.value, Date.now() + HOUR)
    await cache.read(userEntries('u1.t1', REFRESH_TOKEN, ACCESS_TOKEN)[1].key)
    // Errors: a refused file and a moved-aside one.
    chmodSync(cache.path, 0o666)
    const errors: unknown[] = [
      await make({}, events)
        .read('x')
        .catch((error: unknown) => error),
    ]
    chmodSync(cache.path, 0o600)
    process.env[ENV_TOKEN_CACHE_KEY] = randomBytes(32).toString('base64')
    await make({}, events).read('x')
    const keyBytes = Buffer.from(key, 'base64')
    const shown = [
      inspect(cache, { depth: 10, showHidden: true }),
      JSON.stringify(cache),
      JSON.stringify(events),
      ...errors.map((error) => `${inspect(error)} ${JSON.stringify(error)}`),
    ].join('\n')
    expect(events.some((event) => event.type === 'cache-file-moved-aside')).toBe(true)
    for (const secret of [REFRESH_TOKEN, ACCESS_TOKEN, key, keyBytes.toString('hex'), 'u1.t1']) expect(shown).not.toContain(secret)
  })
})

describe('FileTokenCache: several processes', () => {
  it('two processes share one file', async () => {
    const written = await child({ op: 'write', directory, name: 'shared', prefix: 'first', count: 3 })
    expect(written.written).toBe(3)
    const cache = persistentTokenCache({ enabled: true, name: 'shared', directory })
    expect(await cache.read('first-2')).toBe('v-first-2')
    await cache.write('from-parent', 'hello', Date.now() + HOUR)
    const read = await child({ op: 'read', directory, name: 'shared', keys: ['from-parent', 'first-0'] })
    expect(read.values).toEqual({ 'from-parent': 'hello', 'first-0': 'v-first-0' })
  }, 60_000)

  it('10 processes starting with no key file agree on one key: nothing is moved aside, no entry lost', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, index) => child({ op: 'write', directory, name: 'race', prefix: `r${index}`, count: 2 })))
    expect(results.every((result) => !(result.events as string[]).includes('cache-file-moved-aside'))).toBe(true)
    const cache = persistentTokenCache({ enabled: true, name: 'race', directory })
    for (let index = 0; index < 10; index += 1) expect(await cache.read(`r${index}-1`)).toBe(`v-r${index}-1`)
    expect(readdirSync(directory).sort()).toEqual(['race.cache.json', 'race.key'])
    expect(mode(join(directory, 'race.key'))).toBe(0o600)
  }, 120_000)

  it('20 processes writing at once lose no entry and never leave a torn file', async () => {
    const cache = persistentTokenCache({ enabled: true, name: 'fleet', directory })
    await cache.write('seed', 'seed', Date.now() + HOUR) // the key file exists before the fleet starts
    const perProcess = 10
    let stop = false
    let snapshots = 0
    const torn: string[] = []
    // Meanwhile: read the raw file in a loop; every version seen must be a whole, decryptable file.
    const watcher = (async () => {
      const checker = persistentTokenCache({
        enabled: true,
        name: 'fleet',
        directory,
        onEvent: (event) => event.type === 'cache-file-moved-aside' && torn.push(event.reason),
      })
      for (let round = 0; round < 100_000 && !stop; round += 1) {
        const raw = readFileSync(cache.path, 'utf8')
        try {
          JSON.parse(raw)
          snapshots += 1
        } catch {
          torn.push(raw.slice(0, 80))
        }
        await checker.read('seed')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => child({ op: 'write', directory, name: 'fleet', prefix: `p${index}`, count: perProcess })),
    )
    stop = true
    await watcher
    expect(results.every((result) => result.written === perProcess)).toBe(true)
    expect(torn).toEqual([])
    expect(snapshots).toBeGreaterThan(0)
    for (let index = 0; index < 20; index += 1) {
      for (let entry = 0; entry < perProcess; entry += 1) expect(await cache.read(`p${index}-${entry}`)).toBe(`v-p${index}-${entry}`)
    }
    expect(readdirSync(directory).sort()).toEqual(['fleet.cache.json', 'fleet.key'])
  }, 120_000)
})
