// Shared tsup preset: ESM + CJS + .d.ts for each entry, with the package version injected
// as __AZCRED_VERSION__ (used for the User-Agent).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineConfig } from 'tsup'

/**
 * @param {{ entry: Record<string, string> | string[], platform?: 'neutral' | 'node', formats?: ('esm' | 'cjs')[], dts?: boolean, tsconfig?: string }} options
 */
export function azcredPreset(options) {
  const packageJson = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'))
  return defineConfig({
    entry: options.entry,
    format: options.formats ?? ['esm', 'cjs'],
    dts: options.dts ?? true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    target: 'es2022',
    platform: options.platform ?? 'neutral',
    outDir: 'dist',
    tsconfig: options.tsconfig,
    define: { __AZCRED_VERSION__: JSON.stringify(packageJson.version) },
  })
}
