// Heap held per constructed credential: build N, collect garbage, divide the growth by N.
// Run with --expose-gc. argv[2] is ours|official.
const which = process.argv[2]
const count = 10_000
const Credential = which === 'ours' ? (await import('@azcred/client-secret')).ClientSecretCredential : (await import('@azure/identity')).ClientSecretCredential
const options = which === 'ours' ? {} : { disableInstanceDiscovery: true }
new Credential('contoso.onmicrosoft.com', 'client', 'secret', options) // load lazily-initialised module state first
const clientIds = Array.from({ length: count }, (_, index) => `client-${index}`)
const kept = new Array(count)
globalThis.gc()
const before = process.memoryUsage().heapUsed
for (let index = 0; index < count; index += 1) kept[index] = new Credential('contoso.onmicrosoft.com', clientIds[index], 'secret', options)
globalThis.gc()
const after = process.memoryUsage().heapUsed
process.stdout.write(JSON.stringify({ bytesPerCredential: (after - before) / count, kept: kept.length }))
