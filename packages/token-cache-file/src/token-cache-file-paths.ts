import { createRequire } from 'node:module'

type EnvPaths = (name: string, options?: { suffix?: string }) => { data: string; config: string }
let envPaths: EnvPaths | undefined

/**
 * The platform's user directories for azcred (`env-paths`, no suffix). env-paths is CommonJS: it is loaded
 * on the first call only, so a process that gives its own directory (or never reads the manifest) does not
 * pay for loading it.
 */
export function userDirectories(): { data: string; config: string } {
  // __filename in the CommonJS build, import.meta.url in the ES module build.
  envPaths ??= createRequire(typeof __filename === 'string' ? __filename : import.meta.url)('env-paths') as EnvPaths
  return envPaths('azcred', { suffix: '' })
}
