/** The README's first line of prose (after the `# title`). */
export function readmeFirstLine(folder: string): string
/** Static value imports and re-exports of a source file (type-only ones left out). */
export function staticImports(code: string): string[]
/** The names a source module exports, plus `* from <specifier>` for star re-exports, sorted. */
export function exportedNames(code: string): string[]
/** The runtime-split convention's problems in one package folder (STYLE §5); empty when it follows it. */
export function runtimeSplitProblems(folder: string, packages?: Map<string, string>): string[]
