import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * Core's surface, read from the source of `src/index.ts` with the TypeScript compiler: every export has a
 * TSDoc summary and exactly one release tag.
 * - `@public`: for applications; covered by semver.
 * - `@internal For azcred's own packages; not covered by semver.`: shared with sibling packages
 *   (`@azcred/client-secret`, `@azcred/managed-identity`, …), which import it, so it stays in the
 *   published `.d.ts` (no `stripInternal`), but an application must not rely on it.
 */
const INTERNAL_TEXT = "For azcred's own packages; not covered by semver."
const INDEX = fileURLToPath(new URL('./index.ts', import.meta.url))

interface ExportDoc {
  name: string
  summary: string
  tags: Array<{ name: string; text: string }>
}

function readSurface(): ExportDoc[] {
  const program = ts.createProgram([INDEX], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
    noEmit: true,
    skipLibCheck: true,
  })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(INDEX)
  const moduleSymbol = source && checker.getSymbolAtLocation(source)
  if (!moduleSymbol) throw new Error('cannot read src/index.ts')
  return checker.getExportsOfModule(moduleSymbol).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    const summaries: string[] = []
    const tags: ExportDoc['tags'] = []
    for (const declaration of symbol.declarations ?? []) {
      for (const doc of ts.getJSDocCommentsAndTags(declaration)) {
        if (ts.isJSDoc(doc)) summaries.push(ts.getTextOfJSDocComment(doc.comment) ?? '')
      }
      for (const tag of ts.getJSDocTags(declaration)) {
        tags.push({ name: tag.tagName.text, text: (ts.getTextOfJSDocComment(tag.comment) ?? '').trim() })
      }
    }
    return { name: exported.name, summary: summaries.join(' ').trim(), tags }
  })
}

const releaseTags = (entry: ExportDoc): ExportDoc['tags'] => entry.tags.filter((tag) => tag.name === 'public' || tag.name === 'internal')

describe.skipIf(process.env.AZCRED_TEST_RUNTIME === 'edge')("core's public surface", () => {
  const surface = readSurface()

  it('reads the exports of src/index.ts', () => {
    expect(surface.length).toBeGreaterThan(50)
    expect(surface.map((entry) => entry.name)).toEqual(expect.arrayContaining(['AzcredError', 'ChainedTokenCredential', 'sendJsonRequest', 'TokenCredential']))
  })

  it('every export has a TSDoc summary', () => {
    expect(surface.filter((entry) => entry.summary.length < 10).map((entry) => entry.name)).toEqual([])
  })

  it('every export has exactly one release tag: @public, or @internal with the standard text', () => {
    const problems = surface.flatMap((entry) => {
      const found = releaseTags(entry)
      if (found.length === 0) return [`${entry.name}: no @public or @internal tag`]
      if (new Set(found.map((tag) => tag.name)).size > 1) return [`${entry.name}: both @public and @internal`]
      const internal = found.find((tag) => tag.name === 'internal')
      if (internal && internal.text !== INTERNAL_TEXT) return [`${entry.name}: write "@internal ${INTERNAL_TEXT}"`]
      return []
    })
    expect(problems).toEqual([])
  })

  it('what applications use is @public; the shared request plumbing is @internal', () => {
    const tagOf = (name: string): string | undefined => releaseTags(surface.find((entry) => entry.name === name) ?? { name, summary: '', tags: [] })[0]?.name
    for (const name of ['AzcredError', 'AzcredErrorCode', 'TokenRequestError', 'ChainedTokenCredential', 'TokenCredential', 'AccessToken', 'GetTokenOptions']) {
      expect([name, tagOf(name)]).toEqual([name, 'public'])
    }
    for (const name of ['sendJsonRequest', 'assertConfig', 'checkNumber', 'serverText', 'TokenLifecycle', 'normalizeScopes']) {
      expect([name, tagOf(name)]).toEqual([name, 'internal'])
    }
  })

  it('no build setting strips @internal declarations from the .d.ts (sibling packages import them)', async () => {
    const { readFile } = await import('node:fs/promises')
    for (const file of ['../tsconfig.json', '../tsup.config.ts', '../../../tooling/tsconfig/base.json', '../../../tooling/tsup/src/preset.js']) {
      const text = await readFile(fileURLToPath(new URL(file, import.meta.url)), 'utf8').catch(() => '')
      expect([file, text.includes('stripInternal')]).toEqual([file, false])
    }
  })
})
