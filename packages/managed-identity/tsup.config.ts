import { azcredPreset } from '@azcred/tooling-tsup'

// `./imds` is runtime-agnostic (fetch only; `tsc -p tsconfig.json` keeps Node types out of it).
// `.` adds the hosts that need Node: Arc reads a key file, Service Fabric pins a TLS certificate.
export default azcredPreset({ entry: { index: 'src/index.ts', imds: 'src/imds.ts' }, platform: 'node', tsconfig: 'tsconfig.build.json' })
