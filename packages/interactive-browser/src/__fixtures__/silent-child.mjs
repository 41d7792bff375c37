// A new process after a browser sign-in: the BUILT InteractiveBrowserCredential with the stored
// AuthenticationRecord and the same file cache (@azcred/token-cache-file), automatic authentication off and
// an openBrowser that fails the run. It must get a token for a new audience silently (refresh token from
// the file). Prints one JSON line: the token's aud/oid claims and how many browser trips there were; never a token.
// Loopback only (the same network guard as the tests). The emulator's CA comes from NODE_EXTRA_CA_CERTS.
import { installNetworkGuard } from '@azcred/tooling-vitest/network-guard'

installNetworkGuard()
const { deserializeAuthenticationRecord } = await import('@azcred/core')
const { InteractiveBrowserCredential } = await import('../../dist/index.js')

const env = process.env
let browserTrips = 0
try {
  const credential = new InteractiveBrowserCredential({
    tenantId: env.CHILD_TENANT_ID,
    clientId: env.CHILD_CLIENT_ID,
    authorityHost: env.CHILD_AUTHORITY_HOST,
    authenticationRecord: deserializeAuthenticationRecord(env.CHILD_RECORD ?? ''),
    disableAutomaticAuthentication: true,
    tokenCachePersistenceOptions: { enabled: true, name: env.CHILD_CACHE_NAME, directory: env.CHILD_CACHE_DIRECTORY, keySource: 'file' },
    openBrowser: () => {
      browserTrips += 1
      throw new Error('no browser in the silent process')
    },
  })
  const { token } = await credential.getToken(env.CHILD_SCOPE ?? '')
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
  process.stdout.write(`${JSON.stringify({ aud: claims.aud, oid: claims.oid, browserTrips })}\n`)
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error?.code ?? error?.name, message: error?.message, browserTrips })}\n`)
  process.exitCode = 1
}
