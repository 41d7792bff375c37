import { azcredVitest } from '@azcred/tooling-vitest'

// Runtime-agnostic package: the suite runs under Node and again under edge-runtime's globals.
export default azcredVitest({}, { edge: true })
