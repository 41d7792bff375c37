import { startEntraEmulator } from '@azcred/entra-emulator'
import { expect, it, vi } from 'vitest'
import { runFlow } from '../demo-flow'
import { deviceCodeFlows } from './device-code'

it('runs the device-code rows: one sign-in (devicecode + one poll), Storage and Key Vault with one request each, a second process with 0', async () => {
  vi.spyOn(console, 'log').mockImplementation(() => {})
  const emulator = await startEntraEmulator({ deviceCodeIntervalSeconds: 1 })
  try {
    const rows = []
    for (const flow of deviceCodeFlows()) rows.push(await runFlow(flow, emulator))
    expect(rows.map((row) => [row.flow, row.audience, row.requests])).toEqual([
      ['device code (sign-in, emulator approves)', 'https://management.azure.com', 2],
      ['device code (Storage, same sign-in)', 'https://storage.azure.com', 1],
      ['device code (Key Vault, same sign-in)', 'https://vault.azure.net', 1],
      ['device code (second process, encrypted file cache)', 'https://management.azure.com', 0],
    ])
    expect(rows.every((row) => row.token.includes('[redacted'))).toBe(true)
  } finally {
    vi.restoreAllMocks()
    await emulator.close()
  }
}, 60_000)
