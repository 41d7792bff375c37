import { azcredPreset } from '@azcred/tooling-tsup'

// The runtime-split convention (STYLE §5): `index` (`.`) and `imds` (`./imds`) are runtime-agnostic
// (fetch only; `tsc -p tsconfig.json` keeps Node types out of them); `index.node` is what `.` resolves
// to under the `node` export condition: the same exports, plus the hosts that need Node (Arc reads a
// key file, Service Fabric pins TLS on node:https, AKS workload identity reads a token file).
export default azcredPreset({
  entry: { index: 'src/index.ts', 'index.node': 'src/index.node.ts', imds: 'src/imds.ts' },
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
})
