// `build` of @azcred/tooling-runtime-matrix: nothing to compile; checks that every pinned runtime binary
// is installed and runs, and prints its version. (Being a `build` task makes turbo build the packages
// this one depends on first, and run `test` after them.)
import { execFileSync } from 'node:child_process'
import { runtimeBinaries } from './runtimes.mjs'

for (const [name, binary] of Object.entries(runtimeBinaries())) {
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim().split('\n')[0]
  console.log(`${name.padEnd(8)} ${version}`)
}
