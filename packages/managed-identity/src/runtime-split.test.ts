import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { exportedNames, runtimeSplitProblems, staticImports } from '../../../tooling/scripts/runtime-split-check.mjs'
import { workspacePackages } from '../../../tooling/scripts/workspace-packages.mjs'

// STYLE §5's one convention for runtime splits, checked on every publishable package from its sources
// (tooling/scripts/runtime-split-check.mjs): managed identity, shared-key and client-certificate are
// the packages with a split, and every other package must stay agnostic or say it is Node-only.
const packages = workspacePackages() as Map<string, string>
const publishable = [...packages].filter(([, folder]) => JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).private !== true)

describe('every publishable package follows the runtime-split convention', () => {
  it.each(publishable)('%s', (_, folder) => {
    expect(runtimeSplitProblems(folder, packages)).toEqual([])
  })

  it('covers the three packages with a split', () => {
    expect(publishable.map(([name]) => name)).toEqual(expect.arrayContaining(['@azcred/managed-identity', '@azcred/shared-key', '@azcred/client-certificate']))
  })
})

describe('the check refuses what breaks the convention', () => {
  const root = mkdtempSync(join(tmpdir(), 'azcred-runtime-split-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  const entry = (name: string) => ({
    import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
    require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
  })
  let count = 0
  /** A package folder with these exports, sources and README. */
  function fixture(exports: Record<string, unknown>, sources: Record<string, string>, readme = '# @azcred/x\n\nTokens.\n'): string {
    count += 1
    const folder = join(root, `p${count}`)
    for (const [path, code] of Object.entries(sources)) {
      mkdirSync(dirname(join(folder, path)), { recursive: true })
      writeFileSync(join(folder, path), code)
    }
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: '@azcred/x', exports: { ...exports, './package.json': './package.json' } }))
    writeFileSync(join(folder, 'README.md'), readme)
    return folder
  }

  it('accepts an agnostic `.`, a same-API `node` build and `./node` extras', () => {
    const folder = fixture(
      { '.': { node: entry('index.node'), ...entry('index') }, './node': entry('node') },
      {
        'src/index.ts': "export { sign } from './sign'\n",
        'src/index.node.ts': "import { createHmac } from 'node:crypto'\nexport const sign = () => createHmac\n",
        'src/sign.ts': 'export const sign = () => crypto.subtle\n',
        'src/node.ts': "import { readFile } from 'node:fs/promises'\nexport const load = readFile\n",
      },
      '# @azcred/x\n\nSigns. On Node the `node` export condition resolves to node:crypto; `@azcred/x/node` reads files.\n',
    )
    expect(runtimeSplitProblems(folder, packages)).toEqual([])
  })

  it('refuses a default target that reaches node: unless the README says the package is Node-only', () => {
    const sources = {
      'src/index.ts': "export { read } from './read'\n",
      'src/read.ts': "import { readFileSync } from 'node:fs'\nexport const read = readFileSync\n",
    }
    expect(runtimeSplitProblems(fixture({ '.': entry('index') }, sources), packages)).toEqual([
      expect.stringMatching(/^exports\["\."\] is not runtime-agnostic \(\S*src\/read\.ts imports node:fs\)/),
    ])
    expect(runtimeSplitProblems(fixture({ '.': entry('index') }, sources, '# @azcred/x\n\nNode-only. Reads files.\n'), packages)).toEqual([])
  })

  it('refuses undici and a Node-only workspace package in an agnostic target', () => {
    const viaUndici = fixture({ '.': entry('index') }, { 'src/index.ts': "import { Agent } from 'undici'\nexport const agent = Agent\n" })
    expect(runtimeSplitProblems(viaUndici, packages).join()).toContain('undici, a Node-only package')
    const viaWorkspace = fixture(
      { '.': entry('index') },
      { 'src/index.ts': "export { ManagedIdentityCredential } from '@azcred/managed-identity/node-only-path'\n" },
    )
    // An unknown subpath of a workspace package resolves to nothing: no verdict either way.
    expect(runtimeSplitProblems(viaWorkspace, packages)).toEqual([])
  })

  it('refuses a node build with other exports, or laid out another way', () => {
    const differs = fixture(
      { '.': { node: entry('index.node'), ...entry('index') } },
      { 'src/index.ts': 'export const a = 1\n', 'src/index.node.ts': 'export const a = 1\nexport const b = 2\n' },
      '# @azcred/x\n\nThe `node` export condition resolves to b too.\n',
    )
    expect(runtimeSplitProblems(differs, packages).join()).toContain('must export the same names')
    const misnamed = fixture(
      { '.': { node: entry('node'), ...entry('index') } },
      { 'src/index.ts': 'export const a = 1\n', 'src/node.ts': 'export const a = 1\n' },
      '# @azcred/x\n\nThe `node` export condition.\n',
    )
    expect(runtimeSplitProblems(misnamed, packages).join()).toContain('exports["."].node must be')
    const late = fixture({ '.': { ...entry('index'), node: entry('index.node') } }, { 'src/index.ts': '', 'src/index.node.ts': '' })
    expect(runtimeSplitProblems(late, packages).join()).toContain('`node` first')
  })

  it('refuses a node condition on ./node, and an undocumented split', () => {
    const folder = fixture({ '.': entry('index'), './node': { node: entry('node.node'), ...entry('node') } }, { 'src/index.ts': '', 'src/node.ts': '' })
    const problems = runtimeSplitProblems(folder, packages).join('\n')
    expect(problems).toContain('it takes no node condition')
    expect(problems).toContain('document the ./node subpath')
  })

  it('reads imports and exports as TypeScript writes them', () => {
    expect(
      staticImports(
        "import type { A } from './a'\nimport { type B, type C } from './b'\nimport { d, type E } from './d'\nexport type { F } from './f'\nexport * from './g'\nimport './h'\n",
      ),
    ).toEqual(['./d', './g', './h'])
    expect(exportedNames("export { a, b as c } from './x'\nexport type { T } from './t'\nexport function f() {}\nexport * from './y'\n")).toEqual([
      '* from ./y',
      'T',
      'a',
      'c',
      'f',
    ])
  })
})
