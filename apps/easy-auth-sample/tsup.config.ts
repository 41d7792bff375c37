import { defineConfig } from 'tsup'

// Node-only app: its own modules are bundled, every package (the Resource Manager clients included) stays external.
export default defineConfig({
  entry: { main: 'src/main.ts', index: 'src/index.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  dts: false,
  external: [/^@azure\//, /^@azcred\//, /^hono/, /^@hono\//],
})
