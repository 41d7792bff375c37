import { azcredPreset } from '@azcred/tooling-tsup'

export default azcredPreset({ entry: { main: 'src/main.ts' }, platform: 'node', formats: ['esm'], dts: false })
