// `node tooling/scripts/readme-check.mjs` (after a build): type-checks the first ```ts example of the
// root README and of every package README with tsc (strict, ES modules, top-level await), importing
// @azcred/* from the built declarations, so no example uses an undefined variable or a renamed API.
// Each example is written under its package's node_modules/.cache, so its other imports
// (undici, node:*) resolve from that package's dependencies, as they would for a user.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { root, workspacePackages } from './workspace-packages.mjs'

const packages = workspacePackages()
const examples = []
for (const folder of [root, ...packages.values()]) {
  const readme = join(folder, 'README.md')
  if (!existsSync(readme) || (!folder.startsWith(join(root, 'packages')) && folder !== root)) continue
  const match = readFileSync(readme, 'utf8').match(/```(?:ts|typescript)\n([\s\S]*?)```/)
  if (match === null) continue
  const cache = join(folder, 'node_modules', '.cache', 'azcred-readme-check')
  mkdirSync(cache, { recursive: true })
  const file = join(cache, 'readme-example.ts')
  writeFileSync(file, `${match[1]}\nexport {}\n`)
  examples.push({ readme: relative(root, readme), file, cache })
}

// Every @azcred package (and subpath) resolves to its built declarations, as its exports map says.
const paths = {}
for (const [name, folder] of packages) {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const types = target?.import?.types ?? target?.types
    if (typeof types === 'string') paths[subpath === '.' ? name : `${name}/${subpath.slice(2)}`] = [join(folder, types)]
  }
}
const config = join(root, 'node_modules', '.cache', 'azcred-readme-check', 'tsconfig.json')
mkdirSync(join(config, '..'), { recursive: true })
writeFileSync(
  config,
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'es2022',
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['es2022', 'dom'],
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      skipLibCheck: true,
      paths,
    },
    files: examples.map((example) => example.file),
  }),
)
let failed = false
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', config], { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 180_000 })
} catch (error) {
  failed = true
  let output = String(error.stdout ?? error.message)
  for (const example of examples) output = output.replaceAll(relative(root, example.file), `${example.readme} (first ts example)`)
  console.error(output.trim())
}
for (const example of examples) rmSync(example.cache, { recursive: true, force: true })
rmSync(join(config, '..'), { recursive: true, force: true })
if (failed) {
  console.error('\nA README example does not type-check; fix the example (or the API it shows).')
  process.exitCode = 1
} else {
  console.log(`README examples type-check: ${examples.map((example) => example.readme).join(', ')}`)
}
