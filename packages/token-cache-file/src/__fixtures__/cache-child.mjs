// One process using the built @azcred/token-cache-file. Argument: a JSON command.
//   { op: 'write', directory, name, prefix, count, unsafe? }  writes `count` entries `${prefix}-${i}` (value 'v-…')
//   { op: 'read', directory, name, keys, unsafe? }            prints { values } for the keys
//   { op: 'token', directory, name, authorityHost, tenantId, clientId, clientSecret, scope }  ClientSecretCredential
//     with the persistent cache; prints { sha256 } of the token (never the token)
//   { op: 'user', directory, name, authorityHost, tenantId, clientId, scopes: [...] }  a restarted user's process: loads the
//     saved AuthenticationRecord from the cache, then tokens through core's UserTokenLifecycle WITHOUT any
//     interactive path (a prompt would fail); prints { username, tokens: [{ aud, sha256 }] }
// Prints one JSON line; the key comes from AZCRED_TOKEN_CACHE_KEY or the key file, as in real use.
import { createHash } from 'node:crypto'
import { installNetworkGuard } from '@azcred/tooling-vitest/network-guard'

installNetworkGuard()
const command = JSON.parse(process.argv[2])
const { persistentTokenCache } = await import('@azcred/token-cache-file')
const events = []
const cache = persistentTokenCache({
  enabled: true,
  name: command.name,
  directory: command.directory,
  unsafeAllowUnencryptedStorage: command.unsafe === true,
  onEvent: (event) => events.push(event.type),
})
const say = (message) => process.stdout.write(`${JSON.stringify({ ...message, events })}\n`)
if (command.op === 'write') {
  // Many small writes, each its own locked read-modify-replace, so that 20 processes interleave.
  for (let index = 0; index < command.count; index += 1) {
    await cache.write(`${command.prefix}-${index}`, `v-${command.prefix}-${index}`, Date.now() + 3_600_000)
  }
  say({ written: command.count })
} else if (command.op === 'read') {
  const values = {}
  for (const key of command.keys) values[key] = (await cache.read(key)) ?? null
  say({ values })
} else if (command.op === 'token') {
  const { ClientSecretCredential } = await import('@azcred/client-secret')
  const credential = new ClientSecretCredential(command.tenantId, command.clientId, command.clientSecret, {
    authorityHost: command.authorityHost,
    tokenCache: cache,
  })
  const token = await credential.getToken(command.scope)
  say({ sha256: createHash('sha256').update(token.token).digest('hex') })
} else if (command.op === 'user') {
  const { UserTokenLifecycle } = await import('@azcred/core')
  const record = await cache.loadAuthenticationRecord({ clientId: command.clientId })
  const lifecycle = new UserTokenLifecycle({
    credentialName: 'RestartedProcess',
    tenantId: command.tenantId,
    clientId: command.clientId,
    authorityHost: command.authorityHost,
    authenticationRecord: record,
    tokenCache: cache,
  })
  const tokens = []
  for (const scope of command.scopes) {
    const token = await lifecycle.getToken(scope)
    const aud = JSON.parse(Buffer.from(token.token.split('.')[1], 'base64url').toString()).aud
    tokens.push({ aud, sha256: createHash('sha256').update(token.token).digest('hex') })
  }
  say({ username: record?.username, tokens })
}
