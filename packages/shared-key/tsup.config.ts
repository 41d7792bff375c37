import { azcredPreset } from '@azcred/tooling-tsup'

// The runtime-split convention (STYLE §5): `index` (`.`) is runtime-agnostic (WebCrypto); `index.node`
// is what `.` resolves to under the `node` export condition (node:crypto), with the same exports.
export default azcredPreset({ entry: { index: 'src/index.ts', 'index.node': 'src/index.node.ts' }, tsconfig: 'tsconfig.build.json' })
