// Shared vitest preset: Node environment, the network guard, and a JSON report per package
// that tooling/scripts/test-summary.mjs adds up into one closing line.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const setupFile = fileURLToPath(new URL('./setup.js', import.meta.url))

/**
 * @param {import('vitest/config').UserConfig['test']} [overrides]
 * @param {{ edge?: boolean }} [options] `edge`: run the whole suite a second time in the edge-runtime
 *   environment (Vercel's edge VM supplies fetch, crypto, AbortController, timers…), for
 *   runtime-agnostic packages. Node's own globals stay visible there; the `types: []` compile check
 *   is what keeps them out of `src`.
 */
export function azcredVitest(overrides = {}, options = {}) {
  const test = {
    include: ['src/**/*.test.ts'],
    setupFiles: [setupFile],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    ...overrides,
  }
  if (options.edge !== true) return defineConfig({ test })
  return defineConfig({
    test: {
      ...test,
      projects: [
        { extends: true, test: { name: 'node', env: { AZCRED_TEST_RUNTIME: 'node' } } },
        { extends: true, test: { name: 'edge', environment: 'edge-runtime', env: { AZCRED_TEST_RUNTIME: 'edge' } } },
      ],
    },
  })
}
