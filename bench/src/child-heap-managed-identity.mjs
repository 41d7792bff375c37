// Heap held per constructed ManagedIdentityCredential: build N, collect garbage, divide the growth
// by N. Run with --expose-gc. argv[2] is ours|official. The IMDS base points at loopback; nothing
// is requested (construction only).
process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = 'http://127.0.0.1:9'
const which = process.argv[2]
const count = 10_000
const Credential =
  which === 'ours' ? (await import('@azcred/managed-identity')).ManagedIdentityCredential : (await import('@azure/identity')).ManagedIdentityCredential
new Credential({ clientId: 'warm-up' }) // load lazily-initialised module state first
const clientIds = Array.from({ length: count }, (_, index) => `client-${index}`)
const kept = new Array(count)
globalThis.gc()
const before = process.memoryUsage().heapUsed
for (let index = 0; index < count; index += 1) kept[index] = new Credential({ clientId: clientIds[index] })
globalThis.gc()
const after = process.memoryUsage().heapUsed
process.stdout.write(JSON.stringify({ bytesPerCredential: (after - before) / count, kept: kept.length }))
