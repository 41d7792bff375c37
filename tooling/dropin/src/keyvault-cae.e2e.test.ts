// @azure/keyvault-secrets SecretClient, authenticated by azcred's ClientSecretCredential, against a
// loopback Key Vault stand-in that speaks Key Vault's challenge protocol: the first request gets a 401
// naming the tenant and resource, and later a CAE claims challenge (`error="insufficient_claims"`,
// `claims=<base64>`). The official client's challenge policy must route those claims to OUR getToken,
// which must send them to Entra (the emulator) and come back with a fresh token.
import { ClientSecretCredential } from '@azcred/client-secret'
import type { AccessToken, GetTokenOptions } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { SecretClient } from '@azure/keyvault-secrets'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { jwtPayload, type LoopbackHttps, sendJson, startLoopbackHttps } from './loopback-https'

const CLAIMS = JSON.stringify({ access_token: { nbf: { essential: true, value: '1767225600' } } })
let emulator: EntraEmulator
let vault: LoopbackHttps
let revokeNext = false
const seen: { authorization: string | undefined; path: string }[] = []

beforeAll(async () => {
  emulator = await startEntraEmulator()
  vault = await startLoopbackHttps((request, _body, response) => {
    const authorization = request.headers.authorization
    seen.push({ authorization, path: request.url ?? '' })
    const tenant = appTenant
    if (authorization === undefined) {
      response.writeHead(401, {
        'www-authenticate': `Bearer authorization="${emulator.url}/${tenant}", resource="https://vault.azure.net"`,
      })
      return response.end()
    }
    const token = authorization.replace(/^Bearer /, '')
    if (jwtPayload(token).aud !== 'https://vault.azure.net') return sendJson(response, 401, { error: { code: 'Unauthorized', message: 'wrong audience' } })
    if (revokeNext) {
      revokeNext = false
      response.writeHead(401, {
        'www-authenticate': `Bearer realm="", authorization_uri="${emulator.url}/${tenant}/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(CLAIMS).toString('base64')}"`,
      })
      return response.end()
    }
    const name = /^\/secrets\/([^/?]+)/.exec(request.url ?? '')?.[1] ?? 'unknown'
    sendJson(response, 200, { value: `value of ${name}`, id: `${vault.url}/secrets/${name}/0123456789abcdef0123456789abcdef`, attributes: { enabled: true } })
  })
})
afterAll(async () => {
  await vault?.close()
  await emulator?.close()
})

let appTenant = ''

it('SecretClient gets a secret through our credential, and a CAE claims challenge reaches our getToken with the claims', async () => {
  const app = emulator.registerApp()
  appTenant = app.tenantId
  const inner = new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, { authorityHost: emulator.authorityHost, fetch: emulator.fetch })
  const calls: GetTokenOptions[] = []
  // The same object, its getToken observed: what the official client passes is what azcred receives.
  const credential = {
    getToken: (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> => {
      calls.push({ ...options })
      return inner.getToken(scopes, options)
    },
  }
  const client = new SecretClient(`${vault.url}/`, credential, { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } })

  const first = await client.getSecret('db-password')
  expect(first.value).toBe('value of db-password')
  expect(calls).toHaveLength(1)
  expect(calls[0]).toMatchObject({ tenantId: app.tenantId, enableCae: true })
  expect(calls[0]?.claims).toBeUndefined()

  revokeNext = true
  const second = await client.getSecret('api-key')
  expect(second.value).toBe('value of api-key')
  expect(calls).toHaveLength(2)
  expect(calls[1]).toMatchObject({ claims: CLAIMS, enableCae: true })

  // azcred sent the claims to Entra (a new token request, not the cached token).
  const tokenRequests = emulator.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token') && request.form.client_id === app.clientId)
  expect(tokenRequests).toHaveLength(2)
  expect(JSON.parse(tokenRequests[1]?.form.claims ?? '{}')).toMatchObject({
    access_token: { nbf: { essential: true, value: '1767225600' }, xms_cc: { values: ['cp1'] } },
  })
  const bearers = seen.map((entry) => entry.authorization).filter((value) => value !== undefined)
  expect(new Set(bearers).size).toBe(2) // the retried request carried the new token
})
