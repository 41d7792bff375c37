// Small measuring helpers: bounded loops, medians, child processes.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const guardPath = fileURLToPath(new URL('./loopback-only.mjs', import.meta.url))

/** Calls `operation` (awaited) in a loop for `durationMs` (at most `maxCalls`); returns calls per second. */
export async function throughput(operation, durationMs = 1000, maxCalls = 50_000_000) {
  for (let warm = 0; warm < 1000; warm += 1) await operation()
  let calls = 0
  const started = performance.now()
  const deadline = started + durationMs
  while (calls < maxCalls) {
    for (let batch = 0; batch < 1000; batch += 1) await operation()
    calls += 1000
    if (performance.now() >= deadline) break
  }
  return calls / ((performance.now() - started) / 1000)
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Times `repeat` runs of an async operation; returns the median in milliseconds. */
export async function medianTime(operation, repeat) {
  const times = []
  for (let run = 0; run < repeat; run += 1) {
    const started = performance.now()
    await operation()
    times.push(performance.now() - started)
  }
  return median(times)
}

/** Runs `node [args]` with the loopback guard; resolves with wall time (ms) and stdout. Times out after 60 s. */
export function runNode(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ['--import', guardPath, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      const wallMs = performance.now() - started
      if (code === 0) resolve({ wallMs, stdout })
      else reject(new Error(`child ${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`))
    })
  })
}
