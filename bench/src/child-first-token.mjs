// A fresh process: import, construct one credential, get one token. argv[2] is
// bare | raw (one global-fetch POST: the floor) | ours | official. Prints the milliseconds from
// process start to the token (performance.now() counts from the process's time origin).
const which = process.argv[2]
const { BENCH_AUTHORITY: authorityHost, BENCH_TENANT: tenant, BENCH_CLIENT: client, BENCH_SECRET: secret } = process.env
const scope = 'https://management.azure.com/.default'
if (which === 'raw') {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client, client_secret: secret, scope })
  const response = await fetch(`${authorityHost}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body })
  await response.json()
} else if (which === 'ours') {
  const { ClientSecretCredential } = await import('@azcred/client-secret')
  await new ClientSecretCredential(tenant, client, secret, { authorityHost }).getToken(scope)
} else if (which === 'official') {
  const { ClientSecretCredential } = await import('@azure/identity')
  await new ClientSecretCredential(tenant, client, secret, { authorityHost, disableInstanceDiscovery: true }).getToken(scope)
}
process.stdout.write(String(performance.now()))
