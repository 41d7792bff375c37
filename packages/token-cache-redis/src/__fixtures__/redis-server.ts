// A real redis-server for the tests: started on a free loopback port with no persistence, ended by its
// PID. Missing redis-server is a failure, not a skip: CI installs it (.ci/run), so must a developer.
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'

export interface RedisServer {
  port: number
  url: string
  pid: number
  /** Ends the server (SIGKILL by PID, like a crash) and waits until it is gone. */
  stop(): Promise<void>
}

/** The redis-server binary on PATH (or in /usr/sbin, /usr/bin), else a clear error. */
export function findRedisServer(): string {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']
  for (const folder of folders) {
    if (!folder) continue
    const candidate = join(folder, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error(
    'redis-server was not found on PATH: the @azcred/token-cache-redis tests need a real Redis. Install it (Debian/Ubuntu: `sudo apt-get update && sudo apt-get install -y redis-server`; macOS: `brew install redis`); .ci/run installs it before the tests.',
  )
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export async function startRedisServer(): Promise<RedisServer> {
  const binary = findRedisServer()
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort()
    const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve(true)
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve(false)
      })
    })
    if (ready && child.pid !== undefined) {
      const pid = child.pid
      child.stdout?.resume()
      child.stderr?.resume()
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve()
        else child.once('exit', () => resolve())
      })
      return {
        port,
        pid,
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {}
          await exited
        },
      }
    }
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {}
    }
    // Another process may have taken the port between the probe and the start: try a new one.
    if (attempt >= 3) throw new Error(`redis-server did not start: ${output.slice(-500)}`)
  }
}
