import { azcredPreset } from '@azcred/tooling-tsup'

// `index` is runtime-agnostic (WebCrypto); `node` is what the `node` export condition resolves to.
export default azcredPreset({ entry: { index: 'src/index.ts', node: 'src/node.ts' }, tsconfig: 'tsconfig.build.json' })
