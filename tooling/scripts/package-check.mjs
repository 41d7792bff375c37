// `pnpm check-packages`: publint and arethetypeswrong on every publishable package, so the
// exports maps, ESM/CJS builds and their types resolve the way users' tools will resolve them.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { root, workspacePackages } from './workspace-packages.mjs'

let failures = 0
const attw = join(root, 'node_modules', '.bin', 'attw')
for (const [name, folder] of workspacePackages()) {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
  if (manifest.private === true) continue
  const { messages } = await publint({ pkgDir: folder, level: 'warning', strict: true })
  const problems = messages.map((message) => formatMessage(message, manifest))
  let typesReport = 'types ok'
  try {
    execFileSync(attw, ['--pack', folder, '--format', 'ascii', '--profile', 'node16'], { cwd: folder, stdio: 'pipe', timeout: 120_000 })
  } catch (error) {
    typesReport = `types: ${String(error.stdout ?? error.message)
      .trim()
      .split('\n')
      .slice(-12)
      .join('\n  ')}`
    failures += 1
  }
  if (problems.length > 0) failures += 1
  console.log(
    `${problems.length === 0 && typesReport === 'types ok' ? 'ok  ' : 'FAIL'} ${name}: ${problems.length === 0 ? 'publint ok' : problems.join('; ')}; ${typesReport}`,
  )
}
if (failures > 0) {
  console.error(`\n${failures} package check(s) failed`)
  process.exitCode = 1
}
