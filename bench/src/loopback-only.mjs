// Loaded first by the benchmark and each child process it spawns (node --import): refuses every
// connection that would leave loopback, exactly as the test setup does.
import { installNetworkGuard } from '@azcred/tooling-vitest/network-guard'

installNetworkGuard()
