// Lists the workspace's packages (name → folder) by reading pnpm-workspace.yaml's globs.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const root = new URL('../..', import.meta.url).pathname

export function workspacePackages() {
  const packages = new Map()
  for (const group of ['packages', 'apps', 'tooling']) {
    const folder = join(root, group)
    if (!existsSync(folder)) continue
    for (const name of readdirSync(folder)) {
      const manifest = join(folder, name, 'package.json')
      if (existsSync(manifest)) packages.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(folder, name))
    }
  }
  return packages
}
