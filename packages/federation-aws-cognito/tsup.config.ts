import { azcredPreset } from '@azcred/tooling-tsup'

// The AWS SDK stays external (a dependency, loaded with import() on first use).
export default azcredPreset({ entry: { index: 'src/index.ts' } })
