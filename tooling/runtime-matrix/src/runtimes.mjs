// Where each runtime's binary is: pinned npm packages installed by `pnpm install` (devDependencies of
// this package). bun, deno and workerd ship their binary in a per-platform optional dependency; their own
// postinstall scripts (which pnpm does not run here) only copy it, so it is resolved there directly.
import { existsSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

function packageFolder(name, from = require) {
  return dirname(from.resolve(`${name}/package.json`))
}

function platformBinary(wrapper, platformPackage, file) {
  const wrapperRequire = createRequire(realpathSync(require.resolve(`${wrapper}/package.json`)))
  return join(packageFolder(platformPackage, wrapperRequire), file)
}

const platformOf = `${process.platform}-${process.arch}`

/** @returns {Record<string, string>} runtime name → absolute path of its binary */
export function runtimeBinaries() {
  if (platformOf !== 'linux-x64') {
    throw new Error(`the runtime matrix pins linux-x64 binaries; this machine is ${platformOf}`)
  }
  const binaries = {
    'node-22': join(packageFolder('node22'), 'bin', 'node'),
    'node-24': join(packageFolder('node24'), 'bin', 'node'),
    bun: platformBinary('bun', '@oven/bun-linux-x64', 'bin/bun'),
    deno: platformBinary('deno', '@deno/linux-x64-glibc', 'deno'),
    workerd: platformBinary('workerd', '@cloudflare/workerd-linux-64', 'bin/workerd'),
  }
  for (const [name, path] of Object.entries(binaries)) {
    if (!existsSync(path)) throw new Error(`${name}: ${path} is missing; run \`npx -y pnpm@10.34.9 install\``)
  }
  return binaries
}
