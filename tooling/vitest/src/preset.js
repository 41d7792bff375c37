// Shared vitest preset: Node environment, the network guard, and a JSON report per package
// that tooling/scripts/test-summary.mjs adds up into one closing line.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const setupFile = fileURLToPath(new URL('./setup.js', import.meta.url))

/** @param {import('vitest/config').UserConfig['test']} [overrides] */
export function azcredVitest(overrides = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      setupFiles: [setupFile],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
      ...overrides,
    },
  })
}
