import { expect, it } from 'vitest'
import { readEnv } from './env'

// Runs in both vitest projects; proves the edge project really runs under edge-runtime's globals.
it('runs under the environment its project names', () => {
  const edge = (globalThis as { EdgeRuntime?: string }).EdgeRuntime
  expect(edge).toBe(process.env.AZCRED_TEST_RUNTIME === 'edge' ? 'edge-runtime' : undefined)
  expect(typeof globalThis.crypto.subtle.digest).toBe('function')
  expect(readEnv('AZCRED_SURELY_UNSET_VARIABLE')).toBeUndefined()
})
