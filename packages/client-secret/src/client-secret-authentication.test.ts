import { inspect } from 'node:util'
import { AzcredError, MemoryTokenCache, requestTokenGrant } from '@azcred/core'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientSecretCredential, clientSecretAuthentication } from './index'

const SCOPE = 'https://management.azure.com/.default'
const PLANTED = 'planted~Secret-value-that-must-never-leak-4242'
let emulator: EntraEmulator
beforeAll(async () => {
  emulator = await startEntraEmulator()
})
afterAll(async () => {
  await emulator.close()
})

const context = { tenantId: 'contoso.onmicrosoft.com', authorityHost: 'https://login.microsoftonline.com', clientId: 'c', forceRefresh: false }

describe('clientSecretAuthentication', () => {
  it('yields the client_secret field, whatever the context, with the secret hints and nothing else', async () => {
    const authentication = clientSecretAuthentication(PLANTED)
    expect(await authentication.formFields(context)).toEqual({ client_secret: PLANTED })
    expect(await authentication.formFields({ ...context, forceRefresh: true, tenantId: 'other' })).toEqual({ client_secret: PLANTED })
    expect(Object.keys(authentication.hints ?? {}).map(Number)).toEqual([7000215, 7000222])
    expect(authentication.refreshOn).toBeUndefined()
    expect(authentication.describeRefusal).toBeUndefined()
  })

  it('never shows the secret through JSON.stringify or util.inspect', () => {
    const authentication = clientSecretAuthentication(PLANTED)
    expect(JSON.stringify(authentication)).not.toContain(PLANTED)
    expect(inspect(authentication, { depth: 10, showHidden: true })).not.toContain(PLANTED)
    expect(String(authentication.formFields)).not.toContain(PLANTED)
  })

  it.each([undefined, '', 42, null])('refuses %j as AZCRED_CONFIG_INVALID', (value) => {
    expect(() => clientSecretAuthentication(value as unknown as string)).toThrow(
      expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringMatching(/^clientSecret /) }),
    )
  })

  it('composes into requestTokenGrant: the form carries the secret, a wrong one gets its hint and is never shown', async () => {
    const app = emulator.registerApp()
    const request = { scopes: [SCOPE], tenantId: app.tenantId, claims: undefined, enableCae: false, background: false }
    const send = (secret: string) =>
      requestTokenGrant({
        authorityHost: emulator.authorityHost,
        clientId: app.clientId,
        request,
        grant: { grant_type: 'client_credentials' },
        clientAuthentication: clientSecretAuthentication(secret),
        fetch: emulator.fetch,
      })
    const response = await send(app.clientSecret)
    expect(response.accessToken.token).toMatch(/^ey/)
    expect(emulator.requestsTo('/token').at(-1)?.form).toEqual({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: SCOPE,
    })
    const error = await send(PLANTED).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(AzcredError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain('AADSTS7000215): the client secret is wrong')
    for (const text of [(error as Error).message, (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })])
      expect(text).not.toContain(PLANTED)
  })
})

describe('ClientSecretCredential with a tokenCache', () => {
  it('two credentials sharing one cache: the second makes no request', async () => {
    const app = emulator.registerApp()
    const tokenCache = new MemoryTokenCache()
    const options = { authorityHost: emulator.authorityHost, fetch: emulator.fetch, tokenCache }
    const before = emulator.requestsTo('/token').length
    const first = await new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, options).getToken(SCOPE)
    const second = await new ClientSecretCredential(app.tenantId, app.clientId, app.clientSecret, options).getToken(SCOPE)
    expect(second.token).toBe(first.token)
    expect(emulator.requestsTo('/token').length).toBe(before + 1)
    // Another app (client id) sharing the cache gets its own token.
    const other = emulator.registerApp({ tenantId: app.tenantId })
    const third = await new ClientSecretCredential(other.tenantId, other.clientId, other.clientSecret, options).getToken(SCOPE)
    expect(third.token).not.toBe(first.token)
    expect(emulator.requestsTo('/token').length).toBe(before + 2)
  })
})
