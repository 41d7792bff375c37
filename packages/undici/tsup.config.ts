import { azcredPreset } from '@azcred/tooling-tsup'

// Node-only by nature (undici dispatchers); undici is a peer dependency, never bundled.
export default azcredPreset({ entry: { index: 'src/index.ts' }, platform: 'node' })
