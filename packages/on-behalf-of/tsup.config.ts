import { azcredPreset } from '@azcred/tooling-tsup'

// `.` is runtime-agnostic (WebCrypto for the assertion hash, a PEM certificate through
// @azcred/client-certificate); `./node` adds certificate files and encrypted keys.
export default azcredPreset({ entry: { index: 'src/index.ts', node: 'src/node.ts' }, tsconfig: 'tsconfig.build.json' })
