import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Azurite's documented development account: a public, well-known name and key. */
export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

/** A running Azurite. */
export interface Azurite {
  /** `http://127.0.0.1:{port}/devstoreaccount1` for each service. */
  readonly blob: string
  readonly queue: string
  readonly table: string
  readonly pid: number
  /** Ends the Azurite process this helper started (by its PID) and removes its work folder. */
  close(): Promise<void>
}

const SERVICES = ['Blob', 'Queue', 'Table'] as const

/**
 * Starts the real Azurite (npm `azurite`) on loopback with in-memory persistence, telemetry off,
 * each service on a free port. Resolves once all three listen; fails after `timeoutMs` (default 30 s).
 * Started with `--skipApiVersionCheck`, so current official Storage clients, whose `x-ms-version` is
 * often newer than the Azurite release knows, work against it.
 */
export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<Azurite> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const require = createRequire(import.meta.url)
  const entry = join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'azurite.js')
  const location = mkdtempSync(join(tmpdir(), 'azcred-azurite-'))
  const args = [entry, '--inMemoryPersistence', '--disableTelemetry', '--silent', '--skipApiVersionCheck']
  for (const service of SERVICES) args.push(`--${service.toLowerCase()}Host`, '127.0.0.1', `--${service.toLowerCase()}Port`, '0')
  const child: ChildProcess = spawn(process.execPath, args, { cwd: location, stdio: ['ignore', 'pipe', 'pipe'] })
  const urls: Partial<Record<(typeof SERVICES)[number], string>> = {}
  let output = ''
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(location, { recursive: true, force: true })
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Azurite did not start within ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8')
        for (const service of SERVICES) {
          const match = new RegExp(`${service} service is successfully listening at (http://127\\.0\\.0\\.1:\\d+)`).exec(output)
          if (match?.[1] !== undefined) urls[service] = match[1]
        }
        if (SERVICES.every((service) => urls[service] !== undefined)) {
          clearTimeout(timer)
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`Azurite exited with ${code}:\n${output.slice(-2000)}`))
      })
    })
  } catch (error) {
    await close()
    throw error
  }
  const at = (service: (typeof SERVICES)[number]): string => `${urls[service]}/${AZURITE_ACCOUNT}`
  return { blob: at('Blob'), queue: at('Queue'), table: at('Table'), pid: child.pid as number, close }
}
