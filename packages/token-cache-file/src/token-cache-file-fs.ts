import { randomBytes } from 'node:crypto'
import { constants, type Stats } from 'node:fs'
import { link, lstat, mkdir, open, readdir, realpath, rename, rmdir, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { AzcredError } from '@azcred/core'

// POSIX permissions and owners; Windows has neither (the user profile's ACLs protect the files there).
const POSIX = process.platform !== 'win32'
const userId = (): number | undefined => (POSIX ? process.getuid?.() : undefined)

const refused = (message: string): AzcredError => new AzcredError('AZCRED_CONFIG_INVALID', message)

/** `0o600`-style text of a mode's permission bits. */
const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`

/**
 * Refuses what is not this user's private file or directory: another owner, permissions for group or
 * others. The message names the path and the fix (never the content).
 */
function checkOwnership(stats: Stats, path: string, what: string, wanted: number): void {
  if (!POSIX) return
  const uid = userId()
  if (uid !== undefined && stats.uid !== uid) {
    throw refused(
      `the ${what} ${path} is owned by another user (uid ${stats.uid}, you are ${uid}): it is not used; remove it, or give tokenCachePersistenceOptions a directory of your own`,
    )
  }
  if ((stats.mode & 0o077) !== 0) {
    throw refused(
      `the ${what} ${path} can be read or changed by other users (mode ${octal(stats.mode)}): it is not used; run "chmod ${octal(wanted).slice(1)} ${path}" if you trust its content, or remove it`,
    )
  }
}

/**
 * Makes `directory` (and its parents) with mode 0700 when missing, then checks it: a real directory, not a
 * symbolic link, owned by this user, no permissions for group or others.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the directory and the fix.
 */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  const stats = await lstat(directory).catch(async (error: { code?: unknown }) => {
    if (error?.code !== 'ENOENT') throw error
    await mkdir(directory, { recursive: true, mode: 0o700 })
    return lstat(directory)
  })
  if (stats.isSymbolicLink()) {
    throw refused(
      `the token cache directory ${directory} is a symbolic link: it is not followed; remove the link, or give tokenCachePersistenceOptions.directory a real directory`,
    )
  }
  if (!stats.isDirectory()) throw refused(`the token cache directory ${directory} is not a directory: move it away, or give another directory`)
  checkOwnership(stats, directory, 'token cache directory', 0o700)
  await checkAncestors(directory)
}

/**
 * Refuses a cache directory whose parents someone else could change: files are opened by path, so whoever
 * may rename entries of a parent (its owner, or anyone when it is world-writable without the sticky bit)
 * could swap the checked directory for a link to theirs. Parents owned by root or this user, and
 * world-writable ones with the sticky bit (as /tmp), are fine. Links among the parents are followed
 * (`realpath`), and the real directories are checked.
 */
async function checkAncestors(directory: string): Promise<void> {
  const uid = userId()
  if (!POSIX || uid === undefined) return
  let current = await realpath(dirname(directory))
  // Bounded: every step goes one level up, and the root is its own parent.
  for (let depth = 0; depth < 256; depth += 1) {
    const stats = await stat(current)
    if (stats.uid !== uid && stats.uid !== 0) {
      throw refused(
        `the token cache directory ${directory} is inside ${current}, owned by another user (uid ${stats.uid}, you are ${uid}), who could replace it: give tokenCachePersistenceOptions a directory of your own`,
      )
    }
    // 0o1000: the sticky bit (S_ISVTX; not among Node's fs constants).
    if ((stats.mode & 0o002) !== 0 && (stats.mode & 0o1000) === 0) {
      throw refused(
        `the token cache directory ${directory} is inside ${current}, which is writable by other users without the sticky bit (mode ${octal(stats.mode)}), so they could replace it: run "chmod o-w ${current}" (or "chmod +t"), or give another directory`,
      )
    }
    const parent = dirname(current)
    if (parent === current) return
    current = parent
  }
}

/**
 * Reads this user's private file at `path`: undefined when there is none; refused (never followed or
 * read) when it is a symbolic link, not a regular file, another user's or open to group or others. At
 * most `maxBytes + 1` bytes are read, so the caller sees an over-long file.
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the path and the fix.
 */
export async function readPrivateFile(path: string, what: string, maxBytes: number): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    // O_NOFOLLOW: a link planted in place of the file fails here instead of being read (no check-then-use race).
    // O_NONBLOCK: a FIFO (or device) planted there opens at once and is refused below, instead of blocking a
    // thread of the pool until some writer comes (no effect on a regular file).
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw refused(`the ${what} ${path} is a symbolic link: it is not followed; remove the link (azcred writes a real file there)`)
    }
    throw error
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw refused(`the ${what} ${path} is not a regular file: move it away`)
    checkOwnership(stats, path, what, 0o600)
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1)
    let length = 0
    // Bounded: each read adds at least one byte or ends the loop.
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
    }
    return buffer.subarray(0, length)
  } finally {
    await handle.close()
  }
}

/** A temporary file beside `path`: same directory (so a rename is atomic), unique, mode 0600. */
async function writeTemporary(path: string, content: string | Buffer): Promise<string> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => {})
    await unlink(temporary).catch(() => {})
    throw error
  } finally {
    await handle.close().catch(() => {})
  }
  return temporary
}

/**
 * Replaces the file at `path` atomically: the content goes to a temporary file (0600, fsynced) that is
 * then renamed over it, so a reader sees the old file or the new one, never a part.
 */
export async function replacePrivateFile(path: string, content: string | Buffer): Promise<void> {
  const temporary = await writeTemporary(path, content)
  try {
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => {})
    throw error
  }
}

/** Creates the file at `path` with `content` only if it does not exist (atomic: a hard link fails on EEXIST). True when created. */
export async function writeNewPrivateFile(path: string, content: string): Promise<boolean> {
  const temporary = await writeTemporary(path, content)
  try {
    await link(temporary, path)
    return true
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') return false
    throw error
  } finally {
    await unlink(temporary).catch(() => {})
  }
}

/** Renames `path` to `<path>.corrupt-<UTC time>-<random>` beside it; returns the new path. */
export async function moveAside(path: string): Promise<string> {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const target = `${path}.corrupt-${stamp}-${randomBytes(3).toString('hex')}`
  await rename(path, target)
  return target
}

/**
 * Keeps the `keep` newest files moved aside beside `path` (by the time their content was last written) and
 * removes the others, so a cache that keeps being damaged (two processes with different keys taking turns)
 * cannot fill the disk. Returns how many were removed.
 */
export async function pruneMovedAside(path: string, keep: number): Promise<number> {
  const prefix = `${basename(path)}.corrupt-`
  const names = (await readdir(dirname(path)).catch(() => [] as string[])).filter((name) => name.startsWith(prefix))
  if (names.length <= keep) return 0
  const files = await Promise.all(
    names.map(async (name) => {
      const file = join(dirname(path), name)
      const stats = await lstat(file).catch(() => undefined)
      return { file, time: stats?.mtimeMs ?? 0 }
    }),
  )
  files.sort((a, b) => b.time - a.time || (a.file < b.file ? 1 : -1))
  let removed = 0
  for (const { file } of files.slice(keep)) {
    await unlink(file).then(
      () => {
        removed += 1
      },
      () => {},
    )
  }
  return removed
}

/**
 * Removes what sits at the lock path but cannot be a lock held now, so it cannot keep every write out: a
 * file or symbolic link (proper-lockfile's lock is a directory, and could never take it over), or a lock
 * directory dated more than `staleMs` in the future (the clock went back after its owner died: it would never
 * look stale). A live lock (a directory its owner touches every few seconds) is left alone.
 */
export async function clearImpossibleLock(lockPath: string, staleMs: number): Promise<void> {
  const stats = await lstat(lockPath).catch(() => undefined)
  if (stats === undefined) return
  if (!stats.isDirectory()) {
    await unlink(lockPath).catch(() => {})
  } else if (stats.mtimeMs > Date.now() + staleMs) {
    await rmdir(lockPath).catch(() => {})
  }
}

/** The files beside `path` that were moved aside (`.corrupt-…`) or left by a crashed writer (`.tmp`). */
export async function leftovers(path: string): Promise<string[]> {
  const prefix = `${basename(path)}.`
  const names = await readdir(dirname(path)).catch(() => [] as string[])
  return names
    .filter((name) => name.startsWith(prefix) && (name.slice(prefix.length).startsWith('corrupt-') || name.endsWith('.tmp')))
    .map((name) => join(dirname(path), name))
}
