import type { AccessToken } from '@azcred/core'
import type { EntraEmulator } from '@azcred/entra-emulator'

/** One row of the demo: a flow run against the emulator. */
export interface DemoFlow {
  /** What the row is called in the table. */
  name: string
  /** The scope the flow asks for. */
  scope: string
  /**
   * Runs the flow once and returns its token; a flow talking to its own endpoint (managed identity)
   * also says how many requests that endpoint saw.
   */
  run(emulator: EntraEmulator): Promise<AccessToken & { requests?: number }>
}

/** What the demo prints for a flow. */
export interface DemoRow {
  flow: string
  audience: string
  expiresIn: string
  took: string
  requests: number
  token: string
}

/** Shows the token's shape, never the token: its first eight characters and its length. */
export function redactToken(token: string): string {
  return `${token.slice(0, 8)}… [redacted, ${token.length} chars]`
}

/** Reads `aud` from a JWT payload, or '?' for anything else. */
export function audienceOf(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown }
    return typeof payload.aud === 'string' ? payload.aud : '?'
  } catch {
    return '?'
  }
}

export async function runFlow(flow: DemoFlow, emulator: EntraEmulator): Promise<DemoRow> {
  const requestsBefore = emulator.requests.length
  const started = performance.now()
  try {
    const token = await flow.run(emulator)
    const took = performance.now() - started
    return {
      flow: flow.name,
      audience: audienceOf(token.token),
      expiresIn: `${Math.round((token.expiresOnTimestamp - Date.now()) / 60_000)} min`,
      took: `${took.toFixed(1)} ms`,
      requests: token.requests ?? emulator.requests.length - requestsBefore,
      token: redactToken(token.token),
    }
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error'
    return { flow: flow.name, audience: flow.scope, expiresIn: '-', took: '-', requests: emulator.requests.length - requestsBefore, token: `FAILED ${code}` }
  }
}

export function formatTable(rows: DemoRow[]): string {
  const headers: Record<keyof DemoRow, string> = {
    flow: 'flow',
    audience: 'audience',
    expiresIn: 'expires in',
    took: 'time',
    requests: 'requests',
    token: 'token',
  }
  const columns = Object.keys(headers) as (keyof DemoRow)[]
  const widths = columns.map((column) => Math.max(headers[column].length, ...rows.map((row) => String(row[column]).length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd()
  return [
    line(columns.map((column) => headers[column])),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map((row) => line(columns.map((column) => String(row[column])))),
  ].join('\n')
}
