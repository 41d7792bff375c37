// Vitest setup file shared by every package: installs the loopback-only network guard and fails
// the test during which a non-loopback connection was attempted.
import { afterEach } from 'vitest'
import { installNetworkGuard, takeNetworkViolations } from './network-guard.js'

installNetworkGuard()

afterEach(() => {
  const violations = takeNetworkViolations()
  if (violations.length > 0) {
    throw new Error(`This test tried to leave loopback:\n${violations.join('\n')}`)
  }
})
