// Bundles the Worker with esbuild the way tooling/scripts/size-check.mjs bundles a README example:
// @azcred/* resolved to each package's BUILT entry through its exports map, ESM, es2022, platform
// neutral with the `import` condition (the runtime-agnostic builds; no `node` condition).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { workspacePackages } from '../../scripts/workspace-packages.mjs'

const conditions = ['import']

function exportTarget(folder, subpath) {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
  let target = manifest.exports?.[subpath.length === 0 ? '.' : `./${subpath.join('/')}`]
  while (target !== null && typeof target === 'object') {
    const key = Object.keys(target).find((name) => name === 'default' || conditions.includes(name))
    target = key === undefined ? undefined : target[key]
  }
  if (typeof target !== 'string') throw new Error(`${folder} exports no ${subpath.join('/') || '.'} for ${conditions.join(', ')}`)
  return join(folder, target)
}

/** @returns {Promise<string>} the Worker module's code */
export async function bundleWorker(entry) {
  const packages = workspacePackages()
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions,
    plugins: [
      {
        name: 'azcred-workspace',
        setup(builder) {
          builder.onResolve({ filter: /^@azcred\// }, (args) => {
            const [scope, name, ...subpath] = args.path.split('/')
            const folder = packages.get(`${scope}/${name}`)
            return folder === undefined ? undefined : { path: exportTarget(folder, subpath) }
          })
        },
      },
    ],
    logLevel: 'silent',
  })
  return result.outputFiles[0].text
}
