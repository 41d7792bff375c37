// Azurite for the drop-in tests: Blob in OAuth mode over https (as tooling/entra-emulator's
// azurite-oauth test starts it: `--oauth basic` with the loopback leaf), ended by its PID.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface AzuriteBlobOAuth {
  /** `https://127.0.0.1:{port}/devstoreaccount1` */
  url: string
  close(): Promise<void>
}

export async function startAzuriteBlobOAuth(timeoutMs = 60_000): Promise<AzuriteBlobOAuth> {
  const tooling = createRequire(import.meta.url).resolve('@azcred/tooling-azurite/package.json')
  const azuriteRoot = dirname(createRequire(tooling).resolve('azurite/package.json'))
  const certs = fileURLToPath(new URL('../../entra-emulator/certs/', import.meta.url))
  const location = mkdtempSync(join(tmpdir(), 'azcred-dropin-azurite-'))
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(azuriteRoot, 'dist', 'src', 'blob', 'main.js'),
      ...['--blobHost', '127.0.0.1', '--blobPort', '0', '--oauth', 'basic'],
      ...['--cert', join(certs, 'loopback.crt'), '--key', join(certs, 'loopback.key')],
      ...['--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck'],
    ],
    { cwd: location, stdio: ['ignore', 'pipe', 'pipe'] },
  )
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
  let output = ''
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Azurite did not start within ${timeoutMs} ms:\n${output.slice(-1000)}`)), timeoutMs)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8')
        const match = /successfully listens on (https:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (match?.[1] !== undefined) {
          clearTimeout(timer)
          resolve(match[1])
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`Azurite exited with ${code}:\n${output.slice(-1000)}`))
      })
    })
    return { url: `${url}/devstoreaccount1`, close }
  } catch (error) {
    await close()
    throw error
  }
}
