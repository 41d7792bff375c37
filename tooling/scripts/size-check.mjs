// `pnpm size`: bundles each package's README example (minified ESM) and compares gzip bytes
// with the budgets in size-budgets.json; fails over budget or when a forbidden string appears.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { root, workspacePackages } from './workspace-packages.mjs'

const config = JSON.parse(readFileSync(new URL('./size-budgets.json', import.meta.url), 'utf8'))
const packages = workspacePackages()

// Resolve @azcred/* to the built ESM entry of the workspace package through its exports map and the
// bundle's conditions (`node` on the node platform), as a user's bundler would resolve the published
// package: `.` of a package split by the `node` condition (STYLE §5) is measured as each runtime gets it.
function exportTarget(folder, subpath, conditions) {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
  let target = manifest.exports?.[subpath.length === 0 ? '.' : `./${subpath.join('/')}`]
  while (target !== null && typeof target === 'object') {
    const key = Object.keys(target).find((name) => name === 'default' || conditions.includes(name))
    target = key === undefined ? undefined : target[key]
  }
  return typeof target === 'string' ? join(folder, target) : join(folder, 'dist', `${subpath.length === 0 ? 'index' : subpath.join('/')}.js`)
}

function workspacePlugin(conditions) {
  return {
    name: 'azcred-workspace',
    setup(builder) {
      builder.onResolve({ filter: /^@azcred\// }, (args) => {
        const [scope, name, ...subpath] = args.path.split('/')
        const folder = packages.get(`${scope}/${name}`)
        if (folder === undefined) return undefined
        return { path: exportTarget(folder, subpath, conditions) }
      })
    },
  }
}

export function readmeExample(packageFolder) {
  const readme = readFileSync(join(packageFolder, 'README.md'), 'utf8')
  const match = readme.match(/```(?:ts|typescript|js)\n([\s\S]*?)```/)
  if (match === null) throw new Error(`${packageFolder}/README.md has no \`\`\`ts example to measure`)
  return match[1]
}

async function measure(code, resolveDir, platform = 'neutral', external = []) {
  const result = await build({
    stdin: { contents: code, resolveDir, loader: 'ts', sourcefile: 'example.ts' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform,
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: platform === 'node' ? ['node', 'import'] : ['import'],
    external,
    plugins: [workspacePlugin(platform === 'node' ? ['node', 'import'] : ['import'])],
    logLevel: 'silent',
  })
  const text = result.outputFiles[0].text
  return { text, raw: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length }
}

const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`
const rows = []
let failures = 0
const measured = new Map()
for (const entry of config.entries) {
  const folder = join(root, entry.package)
  const { text, raw, gzip } = await measure(entry.code ?? readmeExample(folder), folder, entry.platform, entry.external)
  measured.set(entry.name, gzip)
  const forbidden = (entry.mustNotContain ?? []).filter((needle) => text.includes(needle))
  const over = gzip > entry.budgetGzipBytes
  if (over || forbidden.length > 0) failures += 1
  const target =
    entry.targetGzipBytes === undefined
      ? ''
      : gzip > entry.targetGzipBytes
        ? ` (target ${kb(entry.targetGzipBytes)} not yet met)`
        : ` (target ${kb(entry.targetGzipBytes)} met)`
  rows.push([
    entry.name,
    kb(raw),
    kb(gzip),
    kb(entry.budgetGzipBytes),
    (over ? 'OVER BUDGET' : forbidden.length > 0 ? `contains ${forbidden.join(', ')}` : 'ok') + target,
  ])
}
for (const peer of config.peers ?? []) {
  try {
    const { raw, gzip } = await measure(peer.code, join(root, peer.resolveFrom), peer.platform)
    const ours = measured.get(peer.comparesWith)
    rows.push([peer.name, kb(raw), kb(gzip), '-', ours === undefined ? 'peer' : `peer: ours is ${(gzip / ours).toFixed(0)}x smaller`])
  } catch (error) {
    rows.push([peer.name, '-', '-', '-', `peer not measured: ${String(error.message).split('\n')[0]}`])
  }
}

const headers = ['bundle (README example, minified ESM)', 'raw', 'gzip', 'budget (gzip)', 'result']
const widths = headers.map((header, index) => Math.max(header.length, ...rows.map((row) => row[index].length)))
const line = (cells) =>
  cells
    .map((cell, index) => cell.padEnd(widths[index]))
    .join('  ')
    .trimEnd()
console.log([line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n'))
if (failures > 0) {
  console.error(`\n${failures} bundle(s) failed the size check`)
  process.exitCode = 1
}
