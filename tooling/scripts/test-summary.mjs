// Adds up the JSON reports vitest wrote in every workspace package and prints one closing line,
// "N passed, N failed", that CI reads. Exits non-zero when anything failed or nothing ran.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { workspacePackages } from './workspace-packages.mjs'

let passed = 0
let failed = 0
let skipped = 0
const failedSuites = []
for (const [name, folder] of workspacePackages()) {
  const report = join(folder, 'test-results.json')
  if (!existsSync(report)) continue
  const results = JSON.parse(readFileSync(report, 'utf8'))
  passed += results.numPassedTests
  failed += results.numFailedTests
  skipped += results.numPendingTests + (results.numTodoTests ?? 0)
  if (results.numFailedTests > 0 || results.numFailedTestSuites > 0) failedSuites.push(name)
  if (results.numFailedTestSuites > 0 && results.numFailedTests === 0) failed += results.numFailedTestSuites
}
if (failedSuites.length > 0) console.log(`failing packages: ${failedSuites.join(', ')}`)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exitCode = failed > 0 || passed === 0 ? 1 : 0
