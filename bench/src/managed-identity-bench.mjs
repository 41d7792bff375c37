// azcred's ManagedIdentityCredential against the official one, both on the emulated IMDS (reached
// through AZURE_POD_IDENTITY_AUTHORITY_HOST, so nothing leaves loopback).
import { startManagedIdentityEndpoint } from '@azcred/entra-emulator'
import { ManagedIdentityCredential } from '@azcred/managed-identity'
import { ManagedIdentityCredential as OfficialManagedIdentityCredential } from '@azure/identity'
import { runNode, throughput } from './measure.mjs'

const SCOPE = 'https://storage.azure.com/.default'

/** Adds the managed identity rows through `row(metric, ours, official, ratio, goal, met)`. */
export async function benchManagedIdentity(row, fmt, benchFolder) {
  const imds = await startManagedIdentityEndpoint({ host: 'imds', userAssignedCount: 3 })
  const previous = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url
  try {
    // 1. Cached getToken throughput.
    {
      const mine = new ManagedIdentityCredential({ clientId: imds.userAssigned[0].clientId })
      const theirs = new OfficialManagedIdentityCredential({ clientId: imds.userAssigned[0].clientId })
      await mine.getToken(SCOPE)
      await theirs.getToken(SCOPE)
      const oursRate = await throughput(() => mine.getToken(SCOPE), 1500)
      const officialRate = await throughput(() => theirs.getToken(SCOPE), 1500, 200_000)
      const ratio = oursRate / officialRate
      row('MI cached getToken (calls/s)', fmt(oursRate), fmt(officialRate), `${fmt(ratio, 1)}x`, '>= 30x official', ratio >= 30)
    }

    // 2. Requests reaching IMDS for 1,000 concurrent cold calls (each side its own identity, so no
    // process-wide cache is shared between them).
    {
      let before = imds.requests.length
      const mine = new ManagedIdentityCredential({ clientId: imds.userAssigned[1].clientId })
      await Promise.all(Array.from({ length: 1000 }, () => mine.getToken(SCOPE)))
      const oursRequests = imds.requests.length - before
      before = imds.requests.length
      const theirs = new OfficialManagedIdentityCredential({ clientId: imds.userAssigned[2].clientId })
      await Promise.all(Array.from({ length: 1000 }, () => theirs.getToken(SCOPE)))
      const officialRequests = imds.requests.length - before
      row('MI requests for 1,000 concurrent cold calls', String(oursRequests), String(officialRequests), '-', 'exactly 1', oursRequests === 1)
    }

    // 3. Heap per constructed credential.
    {
      const heap = {}
      for (const which of ['ours', 'official']) {
        const { stdout } = await runNode(['--expose-gc', 'src/child-heap-managed-identity.mjs', which], {}, benchFolder)
        heap[which] = JSON.parse(stdout).bytesPerCredential
      }
      row(
        'MI heap per credential (bytes)',
        fmt(heap.ours),
        fmt(heap.official),
        `${fmt(heap.official / heap.ours, 1)}x smaller`,
        '<= 1,024 bytes',
        heap.ours <= 1024,
      )
    }
  } finally {
    if (previous === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST
    else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = previous
    await imds.close()
  }
}
