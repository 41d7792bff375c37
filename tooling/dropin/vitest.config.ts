import { azcredVitest } from '@azcred/tooling-vitest'

// Azurite's and the stand-ins' https use the emulator's loopback leaf; the official clients trust its
// CA through NODE_EXTRA_CA_CERTS, set by this package's `test` script before Node starts.
export default azcredVitest({ testTimeout: 60_000, hookTimeout: 90_000 })
