// `pnpm check-packages`: packs every publishable package once, the way `pnpm publish` would, and
// checks the tarball: publint (exports, files), arethetypeswrong under every resolution (node10 via
// `typesVersions`, node16 ESM/CJS, bundler), a LICENSE inside, caret ranges for what users install, and
// STYLE §5's runtime-split convention (runtime-split-check.mjs).
//
// pnpm is never looked up on PATH (there it may be a Corepack shim that cannot download): the script
// packs with the pnpm that runs it (`npm_execpath`), or else with `npx -y pnpm@<packageManager>`.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { runtimeSplitProblems } from './runtime-split-check.mjs'
import { root, workspacePackages } from './workspace-packages.mjs'

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
// biome-ignore lint/suspicious/noUndeclaredEnvVars: the root script runs this file, not a turbo task
const execPath = process.env.npm_execpath ?? ''
const pnpm = /^pnpm\.c?js$/.test(basename(execPath))
  ? [process.execPath, execPath] // pnpm's JavaScript entry
  : /^pnpm(\.exe)?$/.test(basename(execPath))
    ? [execPath] // a standalone pnpm executable
    : ['npx', '-y', rootManifest.packageManager.replace(/\+.*/, '')]
const attw = join(root, 'node_modules', '.bin', 'attw')
const workFolder = mkdtempSync(join(tmpdir(), 'azcred-package-check-'))

/** Exact pins (`1.2.3`, `=1.2.3`, `workspace:*`, which publishes as an exact version) and anything not caret. */
function rangeProblems(manifest) {
  const problems = []
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (!/^(workspace:)?\^\d/.test(range) && range !== 'workspace:^') problems.push(`${field}.${name} is "${range}", not a caret range`)
    }
  }
  return problems
}

/** `pnpm pack --json` into a fresh folder: the tarball's path and the files in it. */
function pack(folder) {
  const output = execFileSync(
    pnpm[0],
    [...pnpm.slice(1), 'pack', '--json', '--pack-destination', mkdtempSync(join(workFolder, 'pack-')), '--config.ignore-scripts=true'],
    { cwd: folder, encoding: 'utf8', stdio: 'pipe', timeout: 120_000 },
  )
  const { filename, files } = JSON.parse(output.slice(output.indexOf('{')))
  return { tarballPath: filename, files: files.map((file) => file.path) }
}

// `node tooling/scripts/package-check.mjs @azcred/core @azcred/undici` checks only those.
const only = process.argv.slice(2)
let failures = 0
try {
  for (const [name, folder] of workspacePackages()) {
    if (only.length > 0 && !only.includes(name)) continue
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
    if (manifest.private === true) continue
    const { tarballPath, files } = pack(folder)
    const tarball = readFileSync(tarballPath)
    const { messages } = await publint({
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
      level: 'warning',
      strict: true,
    })
    const problems = [...messages.map((message) => formatMessage(message, manifest)), ...rangeProblems(manifest), ...runtimeSplitProblems(folder)]
    if (!files.includes('LICENSE')) problems.push('the tarball has no LICENSE')
    let typesReport = 'types ok'
    try {
      execFileSync(attw, [tarballPath, '--format', 'ascii', '--profile', 'strict'], { cwd: folder, stdio: 'pipe', timeout: 120_000 })
    } catch (error) {
      // The problems and the entry points and resolutions that have them, not the whole table.
      const lines = String(error.stdout ?? error.message)
        .trim()
        .split('\n')
      const found = []
      let entry = ''
      for (const line of lines) {
        if (line.startsWith('"')) entry = line
        else if (/^(node10|node16|bundler)/.test(line) && !line.includes('🟢')) found.push(`${entry} ${line}`)
        else if (line.includes('https://github.com/arethetypeswrong')) found.push(line.replace(/ https:.*/, ''))
      }
      typesReport = `types: ${(found.length > 0 ? found : lines.slice(-12)).join('\n  ')}`
      failures += 1
    }
    if (problems.length > 0) failures += 1
    console.log(
      `${problems.length === 0 && typesReport === 'types ok' ? 'ok  ' : 'FAIL'} ${name}: ${problems.length === 0 ? 'publint, LICENSE, ranges ok' : problems.join('; ')}; ${typesReport}`,
    )
  }
} finally {
  rmSync(workFolder, { recursive: true, force: true })
}
if (failures > 0) {
  console.error(`\n${failures} package check(s) failed`)
  process.exitCode = 1
}
