// `node tooling/scripts/runtime-split-check.mjs`: every publishable package follows STYLE §5's one
// convention for runtime splits, read from its sources (no build needed):
//   1. same API, faster or fuller on Node → the `node` export condition on the same subpath, built
//      from `src/<entry>.node.ts` beside the runtime-agnostic `src/<entry>.ts`, with the same exports;
//   2. Node-only extras of an agnostic package → the `./node` subpath (`src/node.ts`), never a condition;
//   3. a package whose whole purpose is Node → its README's first line says so ("Node-only" or
//      "for Node"), and it has no split.
// Every other target must be runtime-agnostic: no `node:` import, no Node-only package (undici, a
// Node-only workspace package), reachable through its static imports (type-only and dynamic `import()`
// are not followed: a lazy import on the path that needs it is the documented way to load one).
import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { root, workspacePackages } from './workspace-packages.mjs'

/** Packages that only run on Node, whatever imports them. */
const NODE_ONLY_DEPENDENCIES = new Set(['undici'])
const BUILTINS = new Set(builtinModules)
const NODE_ONLY_README = /Node-only|\bfor Node\b/

const manifestOf = (folder) => JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))

/** The README's first line of prose (after the `# title`). */
export function readmeFirstLine(folder) {
  const path = join(folder, 'README.md')
  if (!existsSync(path)) return ''
  return (
    readFileSync(path, 'utf8')
      .split('\n')
      .find((line) => line.trim() !== '' && !line.startsWith('#')) ?? ''
  )
}

/** Static imports of a source file: `{ specifier }` for value imports and re-exports (type-only ones left out). */
export function staticImports(code) {
  const found = []
  const pattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g
  for (const match of code.matchAll(pattern)) {
    if (match[5] !== undefined) {
      found.push(match[5])
      continue
    }
    if (match[2] !== undefined) continue // import type / export type
    const clause = match[3]
    // `import { type A, type B } from` imports nothing at run time.
    const names = /^\{([^}]*)\}$/.exec(clause.trim())?.[1]
    if (names?.split(',').every((name) => name.trim() === '' || name.trim().startsWith('type '))) continue
    found.push(match[4])
  }
  return found
}

/** The names a source module exports, plus `* from <specifier>` for star re-exports. */
export function exportedNames(code) {
  const names = new Set()
  for (const match of code.matchAll(/export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([\w$]+)/g)) names.add(match[1])
  for (const match of code.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of match[1].split(',')) {
      const name = item.trim().replace(/^type\s+/, '')
      if (name !== '') names.add(name.split(/\s+as\s+/).at(-1))
    }
  }
  for (const match of code.matchAll(/export\s+(?:type\s+)?\*\s+from\s+['"]([^'"]+)['"]/g)) names.add(`* from ${match[1]}`)
  return [...names].sort()
}

function sourceFile(base) {
  for (const extension of ['.ts', '.tsx', '.mts', '/index.ts']) if (existsSync(base + extension)) return base + extension
  return existsSync(base) ? base : undefined
}

/**
 * Why `file` needs Node, following its static imports through the package and into workspace
 * packages (their runtime-agnostic target); undefined when it does not.
 */
function nodeReason(file, packages, seen = new Set()) {
  if (seen.has(file)) return undefined
  seen.add(file)
  for (const specifier of staticImports(readFileSync(file, 'utf8'))) {
    if (specifier.startsWith('.')) {
      const target = sourceFile(resolve(dirname(file), specifier.replace(/\.js$/, '')))
      const why = target && nodeReason(target, packages, seen)
      if (why) return why
      continue
    }
    if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return `${relative(root, file)} imports ${specifier}`
    const [first, second, ...rest] = specifier.split('/')
    const name = first.startsWith('@') ? `${first}/${second}` : first
    const subpath = first.startsWith('@') ? rest : [second, ...rest].filter(Boolean)
    if (NODE_ONLY_DEPENDENCIES.has(name)) return `${relative(root, file)} imports ${name}, a Node-only package`
    const folder = packages.get(name)
    if (folder === undefined) continue
    const entry = agnosticSource(folder, subpath.length === 0 ? '.' : `./${subpath.join('/')}`)
    const why = entry && nodeReason(entry, packages, seen)
    if (why) return `${relative(root, file)} imports ${specifier}: ${why}`
  }
  return undefined
}

/** The source of a subpath's default (non-`node`) target: `dist/<name>.js` comes from `src/<name>.ts`. */
function agnosticSource(folder, subpath) {
  const target = manifestOf(folder).exports?.[subpath]
  const file = target?.import?.default
  const name = typeof file === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(file)?.[1] : undefined
  return name === undefined ? undefined : sourceFile(join(folder, 'src', name))
}

/**
 * The convention's problems in one package (an empty list when it follows it).
 * @param folder the package folder
 * @param packages workspace packages, name → folder (for imports of sibling packages)
 */
export function runtimeSplitProblems(folder, packages = workspacePackages()) {
  const manifest = manifestOf(folder)
  const problems = []
  const nodeOnlyPackage = NODE_ONLY_README.test(readmeFirstLine(folder))
  const readme = existsSync(join(folder, 'README.md')) ? readFileSync(join(folder, 'README.md'), 'utf8') : ''
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json') continue
    const where = `exports["${subpath}"]`
    if (target === null || typeof target !== 'object') {
      problems.push(`${where} must be an object of conditions`)
      continue
    }
    const conditions = Object.keys(target)
    const expected = conditions[0] === 'node' ? ['node', 'import', 'require'] : ['import', 'require']
    if (conditions.join() !== expected.join()) {
      problems.push(`${where} has conditions ${conditions.join(', ')}: expected ${expected.join(', ')} (\`node\` first, only for a same-API Node build)`)
      continue
    }
    const name = /^\.\/dist\/(.+)\.js$/.exec(target.import?.default ?? '')?.[1]
    const source = name === undefined ? undefined : sourceFile(join(folder, 'src', name))
    if (source === undefined) {
      problems.push(`${where}.import.default must be ./dist/<name>.js built from src/<name>.ts`)
      continue
    }
    for (const [condition, file] of [
      ['import.types', `./dist/${name}.d.ts`],
      ['require.default', `./dist/${name}.cjs`],
      ['require.types', `./dist/${name}.d.cts`],
    ]) {
      const [first, second] = condition.split('.')
      if (target[first]?.[second] !== file) problems.push(`${where}.${condition} must be ${file}`)
    }
    if (subpath === './node') {
      if (nodeOnlyPackage) problems.push('a Node-only package needs no ./node subpath: put its exports in .')
      if (target.node !== undefined) problems.push(`${where} is Node-only already: it takes no node condition`)
      if (name !== 'node') problems.push(`${where} must be built from src/node.ts`)
      if (!readme.includes('/node')) problems.push(`the README must document the ./node subpath (its Node-only extras)`)
      continue
    }
    if (name === 'node' || name.endsWith('.node')) problems.push(`${where} default target is a Node build (${name}); use the node condition or ./node`)
    if (target.node !== undefined) {
      if (nodeOnlyPackage) problems.push(`${where}: a Node-only package needs no node condition`)
      const nodeName = `${name}.node`
      const nodeSource = sourceFile(join(folder, 'src', nodeName))
      const files = {
        import: { types: `./dist/${nodeName}.d.ts`, default: `./dist/${nodeName}.js` },
        require: { types: `./dist/${nodeName}.d.cts`, default: `./dist/${nodeName}.cjs` },
      }
      if (JSON.stringify(target.node) !== JSON.stringify(files)) problems.push(`${where}.node must be ${JSON.stringify(files)} (built from src/${nodeName}.ts)`)
      if (nodeSource === undefined) problems.push(`src/${nodeName}.ts is missing`)
      else {
        const agnostic = exportedNames(readFileSync(source, 'utf8'))
        const node = exportedNames(readFileSync(nodeSource, 'utf8'))
        if (agnostic.join() !== node.join()) {
          problems.push(`src/${name}.ts and src/${nodeName}.ts must export the same names (same API): ${agnostic.join(' ')} / ${node.join(' ')}`)
        }
      }
      if (!readme.includes('`node` export condition')) problems.push('the README must say what the `node` export condition resolves to')
    }
    const why = nodeReason(source, packages)
    if (why !== undefined && !nodeOnlyPackage) {
      problems.push(
        `${where} is not runtime-agnostic (${why}): move Node code behind the node condition or into ./node, or say "Node-only" in the README's first line`,
      )
    }
  }
  return problems
}

// CLI: every publishable package.
if (import.meta.url === `file://${process.argv[1]}`) {
  const packages = workspacePackages()
  let failures = 0
  for (const [name, folder] of packages) {
    if (manifestOf(folder).private === true) continue
    const problems = runtimeSplitProblems(folder, packages)
    if (problems.length > 0) failures += 1
    console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${name}${problems.length === 0 ? '' : `:\n  ${problems.join('\n  ')}`}`)
  }
  if (failures > 0) {
    console.error(`\n${failures} package(s) break the runtime-split convention (STYLE §5)`)
    process.exitCode = 1
  }
}
