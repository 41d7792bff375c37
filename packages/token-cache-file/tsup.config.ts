import { azcredPreset } from '@azcred/tooling-tsup'

// Node-only by nature (files, locks, node:crypto), so built for the node platform.
export default azcredPreset({ entry: { index: 'src/index.ts' }, platform: 'node' })
