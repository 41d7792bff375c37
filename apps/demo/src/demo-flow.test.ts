import { startEntraEmulator } from '@azcred/entra-emulator'
import { expect, it } from 'vitest'
import { formatTable, redactToken, runFlow } from './demo-flow'
import { clientCertificateFlows } from './flows/client-certificate'
import { clientSecretFlows } from './flows/client-secret'
import { federatedFlows } from './flows/federated'
import { managedIdentityFlows } from './flows/managed-identity'

it('runs the client-secret rows: one request for the first token, none for the cache hit, two around a background refresh', async () => {
  const emulator = await startEntraEmulator()
  try {
    const rows = []
    for (const flow of clientSecretFlows()) rows.push(await runFlow(flow, emulator))
    expect(rows.map((row) => [row.flow, row.audience, row.requests])).toEqual([
      ['client secret (first token)', 'https://management.azure.com', 1],
      ['client secret (cache hit)', 'https://management.azure.com', 0],
      ['client secret (background refresh)', 'https://management.azure.com', 2],
    ])
    const table = formatTable(rows)
    expect(table).toContain('[redacted,')
    expect(rows.every((row) => !row.token.startsWith('FAILED'))).toBe(true)
    expect(emulator.requests).toHaveLength(3)
  } finally {
    await emulator.close()
  }
})

it('redacts all but the first eight characters', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.payload-that-must-stay-hidden.signature'
  expect(redactToken(token)).toBe(`eyJhbGci… [redacted, ${token.length} chars]`)
  expect(redactToken(token)).not.toContain('payload')
})

it('runs the federated rows: custom provider, AKS token file, GitHub Actions and AWS Cognito, one token request each', async () => {
  const emulator = await startEntraEmulator()
  try {
    const rows = []
    for (const flow of federatedFlows()) rows.push(await runFlow(flow, emulator))
    expect(rows.map((row) => [row.flow, row.audience, row.requests])).toEqual([
      ['client assertion (custom provider)', 'https://storage.azure.com', 1],
      ['workload identity (AKS token file)', 'https://vault.azure.net', 1],
      ['GitHub Actions OIDC federation', 'https://management.azure.com', 1],
      ['AWS Cognito federation (AWS SDK)', 'https://storage.azure.com', 1],
    ])
  } finally {
    await emulator.close()
  }
})

it('runs the certificate row with the demo certificate', async () => {
  const emulator = await startEntraEmulator()
  try {
    const [row] = await Promise.all(clientCertificateFlows().map((flow) => runFlow(flow, emulator)))
    expect([row?.flow, row?.audience, row?.requests]).toEqual(['client certificate (PS256 assertion)', 'https://vault.azure.net', 1])
  } finally {
    await emulator.close()
  }
})

it('runs one managed identity row per host, each against its own emulated endpoint', async () => {
  const emulator = await startEntraEmulator()
  try {
    const rows = []
    for (const flow of managedIdentityFlows()) rows.push(await runFlow(flow, emulator))
    expect(rows.map((row) => [row.flow, row.audience, row.requests])).toEqual([
      ['managed identity: IMDS (user-assigned)', 'https://storage.azure.com', 1],
      ['managed identity: App Service / Functions', 'https://storage.azure.com', 1],
      ['managed identity: Azure Arc (key-file challenge)', 'https://storage.azure.com', 2],
      ['managed identity: Cloud Shell', 'https://storage.azure.com', 1],
      ['managed identity: Service Fabric (pinned TLS)', 'https://storage.azure.com', 1],
      ['managed identity: Azure Machine Learning', 'https://storage.azure.com', 1],
    ])
    expect(emulator.requests).toHaveLength(0)
  } finally {
    await emulator.close()
  }
})
