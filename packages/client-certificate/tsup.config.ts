import { azcredPreset } from '@azcred/tooling-tsup'

// `.` is runtime-agnostic (WebCrypto through jose; `tsc -p tsconfig.json` keeps Node types out of
// it); `./node` adds certificate files and encrypted keys, so the build sees Node types.
export default azcredPreset({ entry: { index: 'src/index.ts', node: 'src/node.ts' }, tsconfig: 'tsconfig.build.json' })
