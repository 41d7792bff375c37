import { azcredPreset } from '@azcred/tooling-tsup'

// Node-only by nature (node:crypto, a Redis connection), so built for the node platform.
export default azcredPreset({ entry: { index: 'src/index.ts' }, platform: 'node' })
