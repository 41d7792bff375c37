import { inspect } from 'node:util'
import { type FederatedTokenProvider, MemoryTokenCache, requestTokenGrant, TokenRequestError } from '@azcred/core'
import { createOidcIssuer, type EntraEmulator, type OidcIssuer, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ClientAssertionCredential, clientAssertionAuthentication } from './index'

const SCOPE = 'https://storage.azure.com/.default'
const SUBJECT = 'system:serviceaccount:payments:api'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
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

const context = { tenantId: 'contoso.onmicrosoft.com', authorityHost: 'https://login.microsoftonline.com', clientId: 'c', forceRefresh: false }
const refusal = (codes: number[]) => new TokenRequestError('refused', { status: 400, error: 'invalid_client', errorCodes: codes })

describe('clientAssertionAuthentication', () => {
  it('asks the provider for the audience with forceRefresh and the abortSignal, and yields the jwt-bearer fields', async () => {
    const asked: unknown[] = []
    const provider: FederatedTokenProvider = {
      getFederatedToken: async (request) => {
        asked.push(request)
        return 'eyJ.planted-assertion.sig'
      },
    }
    const controller = new AbortController()
    const authentication = clientAssertionAuthentication(provider, { cloud: { tokenExchangeAudience: 'api://AzureADTokenExchangeChina' } })
    expect(await authentication.formFields({ ...context, forceRefresh: true, abortSignal: controller.signal })).toEqual({
      client_assertion_type: JWT_BEARER,
      client_assertion: 'eyJ.planted-assertion.sig',
    })
    expect(asked).toEqual([{ audience: 'api://AzureADTokenExchangeChina', forceRefresh: true, abortSignal: controller.signal }])
    // `audience` wins over the cloud's; the default is api://AzureADTokenExchange.
    await clientAssertionAuthentication(provider, { audience: 'api://custom', cloud: { tokenExchangeAudience: 'x' } }).formFields(context)
    await clientAssertionAuthentication(provider).formFields(context)
    expect(asked.slice(1).map((request) => (request as { audience: string }).audience)).toEqual(['api://custom', 'api://AzureADTokenExchange'])
    expect(authentication.refreshOn).toEqual([700024])
    expect(authentication.hints?.[700213]).toMatch(/subject/)
  })

  it('describes only a federated-credential mismatch, naming iss/sub/aud and never the assertion', async () => {
    const assertion = await issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' })
    const { describeRefusal } = clientAssertionAuthentication(() => assertion)
    const fields = { client_assertion_type: JWT_BEARER, client_assertion: assertion }
    for (const code of [70021, 700211, 700212, 700213]) {
      const text = describeRefusal?.(refusal([code]), fields)
      expect(text).toBe(`the assertion presented iss "${issuer.issuer}", sub "${SUBJECT}", aud "api://AzureADTokenExchange"`)
      expect(text).not.toContain(assertion)
    }
    expect(describeRefusal?.(refusal([700024]), fields)).toBeUndefined()
    expect(describeRefusal?.(refusal([]), fields)).toBeUndefined()
    expect(describeRefusal?.(refusal([700213]), { client_assertion: 'not a jwt' })).toBe('the assertion presented a value that is not a JWT')
  })

  it('refuses a source that is neither a function nor a provider (AZCRED_CONFIG_INVALID), an empty assertion (AZCRED_RESPONSE_INVALID)', async () => {
    expect(() => clientAssertionAuthentication('jwt' as never)).toThrow(expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID' }))
    await expect(clientAssertionAuthentication(() => ' ').formFields(context)).rejects.toMatchObject({ code: 'AZCRED_RESPONSE_INVALID' })
  })

  it('never shows an assertion through JSON.stringify or util.inspect of the value', async () => {
    const planted = 'eyJ.planted-assertion-value.sig'
    const authentication = clientAssertionAuthentication(() => planted)
    await authentication.formFields(context)
    expect(JSON.stringify(authentication)).not.toContain(planted)
    expect(inspect(authentication, { depth: 10, showHidden: true })).not.toContain(planted)
  })

  it('composes into requestTokenGrant: an expired assertion is replaced once (700024), then the token', async () => {
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject: SUBJECT }] })
    const stale = await issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange', shiftSeconds: -3600 })
    const calls: boolean[] = []
    const provider: FederatedTokenProvider = {
      async getFederatedToken({ forceRefresh }) {
        calls.push(forceRefresh === true)
        return forceRefresh ? issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' }) : stale
      },
    }
    const response = await requestTokenGrant({
      authorityHost: emulator.authorityHost,
      clientId: app.clientId,
      request: { scopes: [SCOPE], tenantId: app.tenantId, claims: undefined, enableCae: false, background: false },
      grant: { grant_type: 'client_credentials' },
      clientAuthentication: clientAssertionAuthentication(provider),
      fetch: emulator.fetch,
    })
    expect(response.accessToken.token).toMatch(/^ey/)
    expect(calls).toEqual([false, true])
    expect(emulator.requestsTo('/token').map((request) => request.form.client_assertion === stale)).toEqual([true, false])
  })
})

describe('ClientAssertionCredential with a tokenCache', () => {
  it('two credentials sharing one cache: the second makes no request and does not ask its source', async () => {
    const app = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject: SUBJECT }] })
    const tokenCache = new MemoryTokenCache()
    let asked = 0
    const source = async () => {
      asked += 1
      return issuer.issue({ subject: SUBJECT, audience: 'api://AzureADTokenExchange' })
    }
    const options = { authorityHost: emulator.authorityHost, fetch: emulator.fetch, tokenCache }
    const first = await new ClientAssertionCredential(app.tenantId, app.clientId, source, options).getToken(SCOPE)
    const second = await new ClientAssertionCredential(app.tenantId, app.clientId, source, options).getToken(SCOPE)
    expect(second.token).toBe(first.token)
    expect(emulator.requestsTo('/token')).toHaveLength(1)
    expect(asked).toBe(1)
  })
})
