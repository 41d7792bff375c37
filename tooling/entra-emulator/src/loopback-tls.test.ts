import { createPrivateKey, X509Certificate } from 'node:crypto'
import { connect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EntraEmulator, startEntraEmulator, startGitHubActionsOidc } from './index'
import { loopbackTls } from './loopback-tls'

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'

/** Connects with `ca` as the only trust anchor and returns the presented chain (leaf first). */
async function presentedChain(port: number, host: string, ca: string): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca, servername: host.includes(':') || /^\d/.test(host) ? undefined : host }, () => {
      const chain: X509Certificate[] = []
      let certificate = socket.getPeerCertificate(true)
      while (certificate?.raw !== undefined && chain.length < 5) {
        chain.push(new X509Certificate(certificate.raw))
        if (certificate.issuerCertificate === undefined || certificate.issuerCertificate === certificate) break
        certificate = certificate.issuerCertificate
      }
      socket.end()
      resolve(chain)
    })
    socket.once('error', reject)
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS handshake timed out')))
  })
}

describe('the loopback certificates', () => {
  const tls = loopbackTls()
  const ca = new X509Certificate(tls.ca)
  const leaf = new X509Certificate(tls.cert)

  it('are a CA and a leaf (not a CA, server auth, every loopback name) that the CA signed', () => {
    expect(ca.ca).toBe(true)
    expect(leaf.ca).toBe(false)
    expect(leaf.checkIssued(ca)).toBe(true)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.keyUsage).toEqual([SERVER_AUTH])
    expect(leaf.subjectAltName?.split(', ').sort()).toEqual(['DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'])
    expect(leaf.checkPrivateKey(createPrivateKey(tls.key))).toBe(true)
    expect(new Date(leaf.validTo).getTime()).toBeGreaterThan(Date.now() + 10 * 365 * 86_400_000)
  })

  it('serve the leaf with its CA, while clients trust the CA only', () => {
    const served = tls.cert.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
    expect(served.map((pem) => new X509Certificate(pem).ca)).toEqual([false, true])
    expect(tls.ca).not.toContain(served[0])
  })
})

describe('the emulator over TLS', () => {
  let emulator: EntraEmulator
  beforeAll(async () => {
    emulator = await startEntraEmulator()
  })
  afterAll(async () => {
    await emulator.close()
  })

  it('exposes the CA as certificate and presents the leaf signed by it', async () => {
    expect(new X509Certificate(emulator.certificate).ca).toBe(true)
    const [leaf, issuer] = await presentedChain(Number(new URL(emulator.url).port), '127.0.0.1', emulator.certificate)
    expect(leaf?.ca).toBe(false)
    expect(leaf?.checkIssued(new X509Certificate(emulator.certificate))).toBe(true)
    expect(issuer?.fingerprint256).toBe(new X509Certificate(emulator.certificate).fingerprint256)
  })

  it.each(['localhost', '::1'] as const)('verifies when listening on %s', async (host) => {
    const other = await startEntraEmulator({ host })
    try {
      const response = await other.fetch(`${other.url}/${other.tenantId}/discovery/v2.0/keys`)
      expect(response.status).toBe(200)
    } finally {
      await other.close()
    }
  })

  it('is refused by a client that trusts neither the CA nor the leaf', async () => {
    await expect(fetch(`${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`)).rejects.toThrow()
  })
})

describe('the GitHub Actions OIDC stand-in over https', () => {
  it('answers on https with the loopback leaf and its fetch trusts the CA', async () => {
    const oidc = await startGitHubActionsOidc({ protocol: 'https' })
    try {
      expect(oidc.requestUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/.*\?api-version=2\.0$/)
      expect(oidc.certificate).toBe(loopbackTls().ca)
      const response = await oidc.fetch(`${oidc.requestUrl}&audience=api://AzureADTokenExchange`, {
        headers: { authorization: `Bearer ${oidc.requestToken}` },
      })
      expect(response.status).toBe(200)
      expect(((await response.json()) as { value: string }).value.split('.')).toHaveLength(3)
      expect(oidc.audiencesRequested).toEqual(['api://AzureADTokenExchange'])
      const [leaf] = await presentedChain(Number(new URL(oidc.requestUrl).port), '127.0.0.1', oidc.certificate ?? '')
      expect(leaf?.ca).toBe(false)
      await expect(fetch(oidc.requestUrl, { headers: { authorization: `Bearer ${oidc.requestToken}` } })).rejects.toThrow()
    } finally {
      await oidc.close()
    }
  })

  it('stays plain http by default', async () => {
    const oidc = await startGitHubActionsOidc()
    try {
      expect(oidc.requestUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//)
      expect(oidc.certificate).toBeUndefined()
      const response = await oidc.fetch(`${oidc.requestUrl}&audience=x`, { headers: { authorization: `Bearer ${oidc.requestToken}` } })
      expect(response.status).toBe(200)
    } finally {
      await oidc.close()
    }
  })
})
