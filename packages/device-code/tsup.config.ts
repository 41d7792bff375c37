import { azcredPreset } from '@azcred/tooling-tsup'

// The runtime-split convention (STYLE §5): `index` (`.`) is runtime-agnostic (the default prompt writes
// Entra's message with console.error; `tsc -p tsconfig.json` keeps Node types out of it); `index.node` is
// what `.` resolves to under the `node` export condition: the same exports, with a default prompt that
// writes to stderr and, on a terminal, a QR code of the verification page (qrcode-generator, loaded lazily).
export default azcredPreset({
  entry: { index: 'src/index.ts', 'index.node': 'src/index.node.ts' },
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
})
