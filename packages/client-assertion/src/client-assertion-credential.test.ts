import { inspect } from 'node:util'
import type { FederatedTokenProvider } from '@azcred/core'
import { createOidcIssuer, type EntraEmulator, type OidcIssuer, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ClientAssertionCredential } from './index'

const SCOPE = 'https://storage.azure.com/.default'
const SUBJECT = 'system:serviceaccount:payments:api'
let emulator: EntraEmulator
let issuer: OidcIssuer

beforeAll(async () => {
  emulator = await startEntraEmulator()
  issuer = await createOidcIssuer('https://oidc.cluster.example.invalid')
  emulator.trustIssuer(issuer.issuer, issuer.jwks)
})
afterAll(async () => {
  await emulator.close()
})
beforeEach(() => {
  emulator.requests.length = 0
})

const options = () => ({ authorityHost: emulator.authorityHost, fetch: emulator.fetch })
const federatedApp = () => emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject: SUBJECT }] })

describe('ClientAssertionCredential', () => {
  it('exchanges an assertion from a function, sending it as a jwt-bearer client assertion', async () => {
    const app = federatedApp()
    const assertion = await issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' })
    const credential = new ClientAssertionCredential(app.tenantId, app.clientId, () => assertion, options())
    const token = await credential.getToken(SCOPE)
    expect(decodeJwt(token.token)).toMatchObject({ aud: 'https://storage.azure.com', tid: app.tenantId })
    expect(emulator.requestsTo('/token')[0]?.form).toEqual({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: SCOPE,
    })
  })

  it('asks a FederatedTokenProvider for the cloud audience, and a custom provider works end to end', async () => {
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject: SUBJECT, audiences: ['api://AzureADTokenExchangeUSGov'] }] })
    const audiences: string[] = []
    // The ten-line custom provider from core's README: a token from somewhere of your own.
    const custom: FederatedTokenProvider = {
      name: 'custom',
      async getFederatedToken({ audience }) {
        audiences.push(audience)
        return issuer.issue({ subject: SUBJECT, audience })
      },
    }
    const credential = new ClientAssertionCredential(app.tenantId, app.clientId, custom, {
      ...options(),
      cloud: { authorityHost: emulator.authorityHost, tokenExchangeAudience: 'api://AzureADTokenExchangeUSGov' },
    })
    expect((await credential.getToken(SCOPE)).token).toMatch(/^ey/)
    expect(audiences).toEqual(['api://AzureADTokenExchangeUSGov'])
  })

  it('fetches a fresh assertion and retries once when Entra says the assertion expired (AADSTS700024)', async () => {
    const app = federatedApp()
    const stale = await issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange', shiftSeconds: -3600 })
    const calls: boolean[] = []
    const provider: FederatedTokenProvider = {
      async getFederatedToken({ forceRefresh }) {
        calls.push(forceRefresh === true)
        return forceRefresh ? issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' }) : stale
      },
    }
    await new ClientAssertionCredential(app.tenantId, app.clientId, provider, options()).getToken(SCOPE)
    expect(calls).toEqual([false, true])
    expect(emulator.requestsTo('/token')).toHaveLength(2)
  })

  it('names the presented issuer, subject and audience on a subject mismatch (AADSTS700213), never the assertion', async () => {
    const app = federatedApp()
    const assertion = await issuer.issue({ subject: 'system:serviceaccount:payments:other', audience: 'api://AzureADTokenExchange' })
    const error = await new ClientAssertionCredential(app.tenantId, app.clientId, () => assertion, options()).getToken(SCOPE).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED', aadstsCode: 'AADSTS700213' })
    const message = (error as Error).message
    expect(message).toContain('sub "system:serviceaccount:payments:other"')
    expect(message).toContain(`iss "${issuer.issuer}"`)
    expect(message).toContain('copy the subject below')
    for (const text of [message, (error as Error).stack ?? '', JSON.stringify(error), inspect(error, { depth: 10 })]) expect(text).not.toContain(assertion)
  })

  it('refuses a source that is neither a function nor a provider, and an empty assertion', async () => {
    const app = federatedApp()
    expect(() => new ClientAssertionCredential(app.tenantId, app.clientId, 'jwt' as never, options())).toThrow(/FederatedTokenProvider/)
    await expect(new ClientAssertionCredential(app.tenantId, app.clientId, () => '', options()).getToken(SCOPE)).rejects.toMatchObject({
      code: 'AZCRED_RESPONSE_INVALID',
    })
    expect(emulator.requests).toHaveLength(0)
  })
})

describe('issue 11: the source is told when to stop, and what it presented is shown safely', () => {
  it("passes the shared request's abortSignal to a FederatedTokenProvider: when the only caller aborts, the provider's wait ends too", async () => {
    const app = federatedApp()
    let providerSignal: { aborted: boolean } | undefined
    const hanging: FederatedTokenProvider = {
      getFederatedToken: ({ abortSignal }) =>
        new Promise((_resolve, reject) => {
          providerSignal = abortSignal
          abortSignal?.addEventListener('abort', () => reject(new Error('provider stopped')), { once: true })
          setTimeout(() => reject(new Error('provider was never told to stop')), 5_000)
        }),
    }
    const credential = new ClientAssertionCredential(app.tenantId, app.clientId, hanging, options())
    const controller = new AbortController()
    const pending = credential.getToken(SCOPE, { abortSignal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 50))
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'AZCRED_ABORTED' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(providerSignal?.aborted).toBe(true)
    expect(emulator.requestsTo('/token')).toHaveLength(0)
  })

  it('caps and strips the presented claims in a subject-mismatch message (they come from another identity provider)', async () => {
    const app = federatedApp()
    const hostileSubject = `evil\r\nX-Injected: planted\u2028${'A'.repeat(5_000)}`
    const assertion = await issuer.issue({ subject: hostileSubject, audience: 'api://AzureADTokenExchange' })
    const error = await new ClientAssertionCredential(app.tenantId, app.clientId, () => assertion, options()).getToken(SCOPE).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'AZCRED_TOKEN_REQUEST_FAILED' })
    const message = (error as Error).message
    expect(message).toContain('the assertion presented iss "https://oidc.cluster.example.invalid", sub "evilX-Injected: planted')
    expect(message).not.toMatch(/[\r\n\u2028]/)
    expect(message.length).toBeLessThan(1_000)
    expect(`${message}${JSON.stringify(error)}${inspect(error, { depth: 10 })}`).not.toContain(assertion)
  })
})
