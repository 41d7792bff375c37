import { afterEach, expect, it, vi } from 'vitest'
import { proxyFromEnv } from './env'

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']

afterEach(() => {
  vi.unstubAllEnvs()
})

it('proxyFromEnv: any of HTTPS_PROXY / HTTP_PROXY in either case, never an empty value or NO_PROXY alone', () => {
  for (const name of PROXY_VARIABLES) vi.stubEnv(name, undefined)
  expect(proxyFromEnv()).toBe(false)
  vi.stubEnv('NO_PROXY', 'localhost')
  vi.stubEnv('HTTPS_PROXY', '')
  expect(proxyFromEnv()).toBe(false)
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
    vi.stubEnv(name, 'http://127.0.0.1:3128')
    expect(proxyFromEnv(), name).toBe(true)
    vi.stubEnv(name, undefined)
  }
})
