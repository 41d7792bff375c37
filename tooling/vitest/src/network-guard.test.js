import { request } from 'node:http'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { isLoopbackHost, takeNetworkViolations } from './network-guard.js'

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.8.9.10', 'localhost', 'api.localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', undefined])(
    '%s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true)
    },
  )
  it.each(['169.254.169.254', 'login.microsoftonline.com', '10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', 'localhost.example.invalid'])(
    '%s is not loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false)
    },
  )
})

describe('the installed guard', () => {
  it('refuses a raw socket, an http request and fetch to a non-loopback name, before DNS', async () => {
    const socketError = await new Promise((resolve) => {
      const socket = net.connect({ host: 'imds.example.invalid', port: 80 })
      socket.on('error', resolve)
    })
    expect(socketError.code).toBe('EAZCRED_NETWORK_GUARD')

    const requestError = await new Promise((resolve) => {
      request('http://login.example.invalid/token').on('error', resolve).end()
    })
    expect(requestError.code).toBe('EAZCRED_NETWORK_GUARD')

    const fetchError = await fetch('https://login.example.invalid/').catch((error) => error)
    expect(fetchError.cause?.code).toBe('EAZCRED_NETWORK_GUARD')

    const violations = takeNetworkViolations()
    expect(violations).toHaveLength(3)
    expect(violations[0]).toContain('imds.example.invalid:80')
  })

  it('lets loopback through', async () => {
    const server = net.createServer((socket) => socket.end('ok'))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address()
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.on('data', (data) => resolve(String(data)))
      socket.on('error', reject)
    })
    await new Promise((resolve) => server.close(resolve))
    expect(answer).toBe('ok')
    expect(takeNetworkViolations()).toEqual([])
  })
})
