// The runtime matrix's suite: runtime-agnostic ESM that imports the BUILT azcred packages and runs
// against the Entra emulator on loopback. The harness (run-matrix.mjs) starts the emulator in Node and
// hands this module a config; each runtime (Node 22 / 24, Bun, Deno, workerd) runs it unchanged.
import { ClientAssertionCredential } from '@azcred/client-assertion'
import { ClientCertificateCredential } from '@azcred/client-certificate'
import { ClientSecretCredential } from '@azcred/client-secret'
import { ManagedIdentityCredential } from '@azcred/managed-identity/imds'
import { createSharedKeySigner, generateAccountSas } from '@azcred/shared-key'

const TIME_LIMIT_MS = 20_000

function claimsOf(token) {
  const part = token.split('.')[1]
  if (part === undefined) throw new Error('the access token is not a JWT')
  const base64 = part.replaceAll('-', '+').replaceAll('_', '/')
  return JSON.parse(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)))
}

function expectToken(accessToken, audience, tenantId) {
  if (typeof accessToken?.token !== 'string' || typeof accessToken.expiresOnTimestamp !== 'number') throw new Error('getToken did not return an AccessToken')
  if (accessToken.expiresOnTimestamp <= Date.now()) throw new Error('the token is already expired')
  const claims = claimsOf(accessToken.token)
  if (claims.aud !== audience) throw new Error(`aud is ${claims.aud}, expected ${audience}`)
  if (tenantId !== undefined && claims.tid !== tenantId) throw new Error(`tid is ${claims.tid}, expected ${tenantId}`)
  return claims
}

function equal(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
}

/** A fetch that counts the token requests it sends (the lifecycle's single flight is measured here). */
function countingFetch(baseFetch) {
  const counter = { tokenRequests: 0 }
  const fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    if (url.includes('/oauth2/v2.0/token')) counter.tokenRequests += 1
    return baseFetch(input, init)
  }
  return { fetch, counter }
}

/**
 * Runs every case; never throws. `baseFetch` is what the credentials use (workerd passes one that routes
 * through its service bindings; the others pass the runtime's own global fetch).
 * @returns {Promise<Array<{ name: string, ok: boolean, ms: number, error?: string }>>}
 */
export async function runSuite(config, baseFetch = globalThis.fetch) {
  const results = []
  const check = async (name, body) => {
    const start = Date.now()
    let timer
    try {
      await Promise.race([
        body(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${TIME_LIMIT_MS} ms`)), TIME_LIMIT_MS)
        }),
      ])
      results.push({ name, ok: true, ms: Date.now() - start })
    } catch (error) {
      results.push({ name, ok: false, ms: Date.now() - start, error: `${error?.code ?? error?.name ?? 'Error'}: ${error?.message ?? String(error)}` })
    } finally {
      clearTimeout(timer)
    }
  }
  const { authorityHost } = config
  const fetch = baseFetch

  await check('client secret', async () => {
    const { tenantId, clientId, clientSecret } = config.apps.secret
    const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, { authorityHost, fetch })
    const claims = expectToken(await credential.getToken('https://vault.azure.net/.default'), 'https://vault.azure.net', tenantId)
    equal(claims.azp ?? claims.appid, clientId, 'the token names the client')
  })

  await check('client certificate', async () => {
    const { tenantId, clientId } = config.apps.certificate
    const credential = new ClientCertificateCredential(tenantId, clientId, { certificate: config.certificatePem }, { authorityHost, fetch })
    expectToken(await credential.getToken('https://management.azure.com/.default'), 'https://management.azure.com', tenantId)
  })

  await check('client assertion (custom provider)', async () => {
    const { tenantId, clientId } = config.apps.assertion
    const assertions = [...config.assertions]
    let calls = 0
    const provider = async () => {
      calls += 1
      const next = assertions.shift()
      if (next === undefined) throw new Error('the provider ran out of assertions')
      return next
    }
    const credential = new ClientAssertionCredential(tenantId, clientId, provider, { authorityHost, fetch })
    expectToken(await credential.getToken('https://storage.azure.com/.default'), 'https://storage.azure.com', tenantId)
    equal(calls, 1, 'assertion provider calls')
  })

  await check('managed identity (IMDS entry)', async () => {
    const credential = new ManagedIdentityCredential({ endpoint: config.imds.url, fetch })
    const claims = expectToken(await credential.getToken('https://storage.azure.com/.default'), 'https://storage.azure.com', config.imds.tenantId)
    equal(claims.appid ?? claims.azp, config.imds.clientId, 'the token names the system-assigned identity')
  })

  await check('shared key signer', async () => {
    const { accountName, accountKey, request, expectedAuthorization } = config.sharedKey
    const signer = createSharedKeySigner({ accountName, accountKey })
    const added = await signer.authorize(request)
    equal(added.Authorization ?? added.authorization, expectedAuthorization, 'Authorization')
  })

  await check('account SAS generation', async () => {
    const { accountName, accountKey, sas } = config.sharedKey
    const signer = createSharedKeySigner({ accountName, accountKey })
    const query = await generateAccountSas(signer, {
      services: sas.services,
      resourceTypes: sas.resourceTypes,
      permissions: sas.permissions,
      startsOn: new Date(sas.startsOn),
      expiresOn: new Date(sas.expiresOn),
      protocol: 'https',
      version: sas.version,
    })
    equal(new URLSearchParams(query).get('sig'), sas.expectedSignature, 'sig')
  })

  await check('single flight: 3 concurrent getToken calls, 1 token request', async () => {
    const { tenantId, clientId, clientSecret } = config.apps.singleFlight
    const { fetch: counted, counter } = countingFetch(fetch)
    const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, { authorityHost, fetch: counted })
    const scope = 'https://graph.microsoft.com/.default'
    const tokens = await Promise.all([credential.getToken(scope), credential.getToken(scope), credential.getToken(scope)])
    for (const token of tokens) expectToken(token, 'https://graph.microsoft.com', tenantId)
    equal(new Set(tokens.map((token) => token.token)).size, 1, 'distinct tokens')
    equal(counter.tokenRequests, 1, 'token requests sent')
  })

  return results
}
