import { azcredVitest } from '@azcred/tooling-vitest'

// Node-only package: a real redis-server and child processes, so a longer budget per test.
export default azcredVitest({ testTimeout: 60_000, hookTimeout: 30_000 })
