import { azcredPreset } from '@azcred/tooling-tsup'

export default azcredPreset({ entry: { index: 'src/index.ts' }, platform: 'node', formats: ['esm'] })
