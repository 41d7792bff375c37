// A fresh process whose first token comes from a persistent cache on disk. argv[2] is
// ours | official | official-warm. Prints the milliseconds from the script's first line to the token:
// import + read + decrypt + return, i.e. the time over a bare node start (the script imports nothing
// statically, so its first line runs when a bare node would exit; timing inside the process keeps the
// node start-up's noise on a busy machine out of the figure).
//   ours: @azcred/client-secret + @azcred/token-cache-file (AES-256-GCM file in the default directory, key file beside it)
//   official: @azure/msal-node ConfidentialClientApplication with a file cache plugin (plaintext JSON:
//     @azure/identity-cache-persistence needs keytar's native binary, which does not install here), its
//     authority metadata given (no discovery request); official-warm fills that file (one token request).
const started = performance.now()
const which = process.argv[2]
const env = process.env
const scope = 'https://management.azure.com/.default'
if (which === 'ours') {
  const [{ ClientSecretCredential }, { persistentTokenCache }] = await Promise.all([import('@azcred/client-secret'), import('@azcred/token-cache-file')])
  // The default directory (the user data directory, here XDG_DATA_HOME=<bench folder>), as most tools use it.
  const tokenCache = persistentTokenCache({ enabled: true, name: 'bench' })
  const credential = new ClientSecretCredential(env.BENCH_TENANT, env.BENCH_CLIENT, env.BENCH_SECRET, { authorityHost: env.BENCH_AUTHORITY, tokenCache })
  await credential.getToken(scope)
} else if (which === 'official' || which === 'official-warm') {
  const { readFile, writeFile } = await import('node:fs/promises')
  const { ConfidentialClientApplication } = await import('@azure/msal-node')
  const file = `${env.BENCH_CACHE_DIR}/msal-cache.json`
  const cachePlugin = {
    async beforeCacheAccess(context) {
      try {
        context.tokenCache.deserialize(await readFile(file, 'utf8'))
      } catch {}
    },
    async afterCacheAccess(context) {
      if (context.cacheHasChanged) await writeFile(file, context.tokenCache.serialize(), { mode: 0o600 })
    },
  }
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: env.BENCH_CLIENT,
      clientSecret: env.BENCH_SECRET,
      authority: `${env.BENCH_AUTHORITY}/${env.BENCH_TENANT}`,
      knownAuthorities: [new URL(env.BENCH_AUTHORITY).host],
      authorityMetadata: env.BENCH_AUTHORITY_METADATA,
    },
    cache: { cachePlugin },
  })
  const result = await app.acquireTokenByClientCredential({ scopes: [scope] })
  if (which === 'official' && result?.fromCache !== true) throw new Error('msal-node did not answer from its cache')
}
process.stdout.write(String(performance.now() - started))
