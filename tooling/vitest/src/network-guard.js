// Refuses every outgoing TCP/TLS connection whose target is not loopback, before any packet
// leaves the process (and before DNS is asked), and remembers each refusal so the test run fails.
import net from 'node:net'

const violations = []
let installed = false

/** True for 127.0.0.0/8, ::1 (any spelling), IPv4-mapped loopback, and localhost names. */
export function isLoopbackHost(host) {
  if (host === undefined || host === null || host === '') return true // Node's default is localhost
  let value = String(host).toLowerCase()
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1)
  if (value === 'localhost' || value.endsWith('.localhost')) return true
  if (net.isIPv4(value)) return value.split('.')[0] === '127'
  if (net.isIPv6(value)) {
    if (value.startsWith('::ffff:')) {
      const mapped = value.slice('::ffff:'.length)
      return net.isIPv4(mapped) && mapped.split('.')[0] === '127'
    }
    const blockList = new net.BlockList()
    blockList.addAddress('::1', 'ipv6')
    return blockList.check(value, 'ipv6')
  }
  return false
}

function targetOf(args) {
  let first = args[0]
  // net.connect() hands Socket#connect an already normalised [options, callback] array.
  if (Array.isArray(first)) first = first[0]
  if (first !== null && typeof first === 'object') {
    if (first.path) return { pipe: true }
    return { host: first.host ?? first.hostname, port: first.port }
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { pipe: true }
  return { host: typeof args[1] === 'string' ? args[1] : undefined, port: first }
}

/** Installs the guard once per process (idempotent). */
export function installNetworkGuard() {
  if (installed) return
  installed = true
  const originalConnect = net.Socket.prototype.connect
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const target = targetOf(args)
    if (!target.pipe && !isLoopbackHost(target.host)) {
      const message = `network guard: refused a connection to ${target.host}:${target.port}; tests may only reach loopback (127.0.0.1, localhost, ::1)`
      violations.push(message)
      const error = Object.assign(new Error(message), { code: 'EAZCRED_NETWORK_GUARD' })
      queueMicrotask(() => this.destroy(error))
      return this
    }
    return originalConnect.apply(this, args)
  }
}

/** Returns and clears the refusals recorded since the last call. */
export function takeNetworkViolations() {
  return violations.splice(0, violations.length)
}
