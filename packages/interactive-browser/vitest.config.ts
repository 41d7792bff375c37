import { azcredVitest } from '@azcred/tooling-vitest'

// Node-only package: loopback listeners, the Entra emulator and a real headless Chromium.
export default azcredVitest({ testTimeout: 60_000, hookTimeout: 60_000 })
