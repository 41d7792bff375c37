// Hostile local users and careless callers: a FIFO (or a directory) planted where a file is expected must
// not hang the process; a parent directory others can change (world-writable without the sticky bit, or
// another user's) is refused, since its owner could swap the cache directory for a link after it was checked;
// a manifest's field names reach an error only without control characters; scrub() signs out even when the
// file was written by a newer version.
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
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
import { AzcredError } from '@azcred/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ENV_TOKEN_CACHE_KEY, type FileTokenCacheEvent, type FileTokenCacheOptions, persistentTokenCache, readAzcredConfig } from './index'

const HOUR = 3_600_000
const POSIX = process.platform !== 'win32'
let root: string
let directory: string
const fifos: string[] = []
const savedKey = process.env[ENV_TOKEN_CACHE_KEY]

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'azcred-tcf-hostile-'))
  directory = join(root, 'cache')
  delete process.env[ENV_TOKEN_CACHE_KEY]
})
afterEach(() => {
  // A reader the old code left blocked in open() is released by a writer opening and closing the FIFO.
  for (const fifo of fifos.splice(0)) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK))
    } catch {}
  }
  chmodSync(root, 0o700)
  rmSync(root, { recursive: true, force: true })
  if (savedKey === undefined) delete process.env[ENV_TOKEN_CACHE_KEY]
  else process.env[ENV_TOKEN_CACHE_KEY] = savedKey
})

function make(options: Partial<FileTokenCacheOptions> = {}, events: FileTokenCacheEvent[] = []) {
  return persistentTokenCache({ enabled: true, name: 'test', directory, onEvent: (event) => events.push(event), ...options })
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path])
  fifos.push(path)
}

/** The operation's outcome within `ms`: its error, 'resolved', or 'hung'. */
async function within(ms: number, operation: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms)
  })
  try {
    return await Promise.race([
      operation.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      hung,
    ])
  } finally {
    clearTimeout(timer)
  }
}

describe.runIf(POSIX)('planted special files never hang the process', () => {
  it('a FIFO in place of the cache file is refused at once (reads and writes), not waited on', async () => {
    mkdirSync(directory, { mode: 0o700 })
    const path = join(directory, 'test.cache.json')
    mkfifo(path)
    const events: FileTokenCacheEvent[] = []
    const read = await within(2_000, make({}, events).read('k'))
    expect(AzcredError.isInstance(read) && read.code).toBe('AZCRED_CONFIG_INVALID')
    expect((read as Error).message).toMatch(/is not a regular file/)
    const write = await within(2_000, make({}, events).write('k', 'v', Date.now() + HOUR))
    expect(AzcredError.isInstance(write) && write.code).toBe('AZCRED_CONFIG_INVALID')
    expect(events.filter((event) => event.type === 'cache-file-refused')).toHaveLength(2)
  })

  it('a FIFO in place of the key file is refused at once', async () => {
    mkdirSync(directory, { mode: 0o700 })
    mkfifo(join(directory, 'test.key'))
    const outcome = await within(2_000, make({ keySource: 'file' }).write('k', 'v', Date.now() + HOUR))
    expect(AzcredError.isInstance(outcome) && outcome.code).toBe('AZCRED_CONFIG_INVALID')
    expect((outcome as Error).message).toMatch(/token cache key file .* is not a regular file/)
  })

  it('a directory in place of the cache file is refused, and nothing is written', async () => {
    mkdirSync(join(directory, 'test.cache.json'), { recursive: true, mode: 0o700 })
    const outcome = await within(2_000, make().write('k', 'v', Date.now() + HOUR))
    expect(AzcredError.isInstance(outcome) && outcome.code).toBe('AZCRED_CONFIG_INVALID')
    expect((outcome as Error).message).toMatch(/is not a regular file/)
  })

  it('a FIFO as the manifest is refused at once (the constructor-time read is synchronous: a hang would stop the process)', async () => {
    const path = join(root, 'config.json')
    mkfifo(path)
    // With the old code the open blocks until a writer comes: this child opens the FIFO after 3 s and closes it.
    const releaser = execFile(process.execPath, [
      '-e',
      `setTimeout(() => { try { require('fs').closeSync(require('fs').openSync(${JSON.stringify(path)}, 'w')) } catch {} }, 3000)`,
    ])
    try {
      const startedAt = Date.now()
      let error: unknown
      try {
        readAzcredConfig({ path })
      } catch (caught) {
        error = caught
      }
      expect(Date.now() - startedAt).toBeLessThan(2_000)
      expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
      expect((error as Error).message).toMatch(/is not a regular file/)
    } finally {
      if (releaser.pid !== undefined && releaser.exitCode === null) releaser.kill()
    }
  })
})

describe.runIf(POSIX)('a parent directory others can change is refused', () => {
  it('world-writable without the sticky bit: refused naming that directory; with the sticky bit (as /tmp): used', async () => {
    const shared = join(root, 'shared')
    mkdirSync(shared, { mode: 0o700 })
    chmodSync(shared, 0o777)
    const events: FileTokenCacheEvent[] = []
    const cache = make({ directory: join(shared, 'cache') }, events)
    const error = await within(5_000, cache.write('k', 'v', Date.now() + HOUR))
    expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
    expect((error as Error).message).toContain(shared)
    expect((error as Error).message).toMatch(/writable by other users/)
    expect(existsSync(join(shared, 'cache', 'test.cache.json'))).toBe(false)
    chmodSync(shared, 0o1777)
    await make({ directory: join(shared, 'cache') }).write('k', 'v', Date.now() + HOUR)
    expect(await make({ directory: join(shared, 'cache') }).read('k')).toBe('v')
  })

  it.runIf(process.getuid?.() === 0)("another (non-root) user's parent directory is refused", async () => {
    const theirs = join(root, 'theirs')
    mkdirSync(theirs, { mode: 0o755 })
    mkdirSync(join(theirs, 'cache'), { mode: 0o700 })
    chownSync(theirs, 4321, 4321)
    const error = await within(5_000, make({ directory: join(theirs, 'cache') }).write('k', 'v', Date.now() + HOUR))
    expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
    expect((error as Error).message).toMatch(/owned by another user \(uid 4321/)
    expect((error as Error).message).toContain(theirs)
  })
})

describe('manifest field names reach an error without control characters', () => {
  it('an unknown or secret-looking field with ANSI escapes and newlines', () => {
    const path = join(root, 'config.json')
    for (const field of ['\u001b]0;pwned\u0007\u001b[2J\nfake', 'my\u001b[31mSecret\r\n']) {
      writeFileSync(path, JSON.stringify({ [field]: 'x' }), { mode: 0o600 })
      let error: unknown
      try {
        readAzcredConfig({ path })
      } catch (caught) {
        error = caught
      }
      expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
      expect((error as Error).message).not.toMatch(/\p{Cc}/u)
    }
  })
})

describe('scrub() signs out whatever wrote the file', () => {
  it('a file of a newer format version: scrub() removes it (its secrets too); scrub({ account }) is refused and leaves it', async () => {
    const cache = make()
    mkdirSync(directory, { recursive: true, mode: 0o700 })
    const secret = `rt-PLANTED-${randomBytes(12).toString('hex')}`
    const newer = JSON.stringify({ format: 'azcred-token-cache', version: 2, encryption: 'none', entries: { k: { v: secret, e: 0 } } })
    writeFileSync(cache.path, newer, { mode: 0o600 })
    await expect(cache.scrub({ account: 'uid.utid' })).rejects.toThrow(/newer/)
    expect(readFileSync(cache.path, 'utf8')).toBe(newer)
    const events: FileTokenCacheEvent[] = []
    await make({}, events).scrub()
    expect(existsSync(cache.path) ? readFileSync(cache.path, 'latin1') : '').not.toContain(secret)
    expect(events).toContainEqual(expect.objectContaining({ type: 'cache-scrubbed', path: cache.path }))
    await make().write('k', 'v', Date.now() + HOUR)
    expect(await make().read('k')).toBe('v')
  })
})

describe('moved-aside files are bounded', () => {
  it('two processes with different keys taking turns: at most 5 moved-aside files are kept (the newest), each 0600, and the event says how many older ones went', async () => {
    process.env[ENV_TOKEN_CACHE_KEY] = randomBytes(32).toString('base64')
    const events: FileTokenCacheEvent[] = []
    const first = make({}, events)
    await first.write('k', 'first', Date.now() + HOUR)
    process.env[ENV_TOKEN_CACHE_KEY] = randomBytes(32).toString('base64')
    const second = make({}, events)
    for (let round = 0; round < 8; round += 1) {
      await second.write('k', `second-${round}`, Date.now() + HOUR)
      await first.write('k', `first-${round}`, Date.now() + HOUR)
    }
    const moved = events.filter((event) => event.type === 'cache-file-moved-aside')
    expect(moved).toHaveLength(16)
    const kept = readdirSync(directory).filter((name) => name.includes('.corrupt-'))
    expect(kept).toHaveLength(5)
    // The newest five are those kept.
    const newest = moved.slice(-5).map((event) => (event as { movedTo: string }).movedTo.split('/').at(-1))
    expect(kept.sort()).toEqual([...newest].sort())
    for (const name of kept) expect(statSync(join(directory, name)).mode & 0o777).toBe(0o600)
    expect(moved.reduce((sum, event) => sum + ((event as { olderRemoved?: number }).olderRemoved ?? 0), 0)).toBe(11)
  })
})

describe('a planted or impossible lock does not hold the cache forever', () => {
  it.each([
    [
      'a lock directory dated in the future (the clock went back after a crash)',
      (lock: string) => {
        mkdirSync(lock)
        const future = new Date(Date.now() + HOUR)
        utimesSync(lock, future, future)
      },
    ],
    ['a regular file in place of the lock directory', (lock: string) => writeFileSync(lock, '', { mode: 0o600 })],
    ['a symbolic link in place of the lock directory', (lock: string) => symlinkSync(join(root, 'nowhere'), lock)],
  ] as const)('%s: the write goes through at once', async (_label, plant) => {
    mkdirSync(directory, { mode: 0o700 })
    plant(join(directory, 'test.cache.json.lock'))
    const startedAt = Date.now()
    await make().write('k', 'v', Date.now() + HOUR)
    expect(Date.now() - startedAt).toBeLessThan(3_000)
    expect(await make().read('k')).toBe('v')
    expect(existsSync(join(root, 'nowhere'))).toBe(false)
  })
})

describe('a key file of the wrong length is refused without showing it', () => {
  it.each([
    ['31 bytes', () => randomBytes(31).toString('base64')],
    ['33 bytes', () => randomBytes(33).toString('base64')],
    ['hex', () => randomBytes(32).toString('hex')],
    ['empty', () => ''],
  ])('%s', async (_label, content) => {
    mkdirSync(directory, { mode: 0o700 })
    const text = content()
    writeFileSync(join(directory, 'test.key'), `${text}\n`, { mode: 0o600 })
    const events: FileTokenCacheEvent[] = []
    const error = await within(5_000, make({ keySource: 'file' }, events).write('k', 'v', Date.now() + HOUR))
    expect(AzcredError.isInstance(error) && error.code).toBe('AZCRED_CONFIG_INVALID')
    expect((error as Error).message).toMatch(/does not hold a key/)
    if (text !== '') expect(`${(error as Error).message}${JSON.stringify(events)}`).not.toContain(text.slice(0, 12))
    expect(readFileSync(join(directory, 'test.key'), 'utf8')).toBe(`${text}\n`)
  })
})
