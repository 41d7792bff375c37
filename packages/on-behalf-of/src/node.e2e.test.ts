// The Node entry: a certificate file (certificatePath), as @azure/identity takes it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { claimsChallengeHeader, OnBehalfOfCredential, OnBehalfOfUserCache } from './node'

let emulator: EntraEmulator
let directory: string
beforeAll(async () => {
  emulator = await startEntraEmulator()
  directory = mkdtempSync(join(tmpdir(), 'azcred-obo-'))
})
afterAll(async () => {
  await emulator.close()
  rmSync(directory, { recursive: true, force: true })
})
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')

it('certificatePath: the file is read and each on-behalf-of request carries a signed client assertion', async () => {
  const path = join(directory, 'api.pem')
  writeFileSync(path, fixture('rsa-combined.pem'), { mode: 0o600 })
  const api = emulator.registerApp({ certificates: [fixture('rsa.crt')] })
  const user = emulator.addUser({ username: 'obo.node@contoso.onmicrosoft.com' })
  const userAssertionToken = await emulator.issueUserToken({ username: user.username, audience: api.clientId })
  const credential = new OnBehalfOfCredential({
    tenantId: api.tenantId,
    clientId: api.clientId,
    certificatePath: path,
    userAssertionToken,
    authorityHost: emulator.authorityHost,
    fetch: emulator.fetch,
    userCache: new OnBehalfOfUserCache(),
  })
  const token = await credential.getToken('https://storage.azure.com/.default')
  expect(decodeJwt(token.token)).toMatchObject({ oid: user.oid, azp: api.clientId })
  const form = emulator.requestsTo('/oauth2/v2.0/token').at(-1)?.form
  expect(form).toMatchObject({ requested_token_use: 'on_behalf_of', assertion: userAssertionToken })
  expect(decodeJwt(form?.client_assertion ?? '')).toMatchObject({ iss: api.clientId })
  expect(typeof claimsChallengeHeader).toBe('function')
})

it('certificatePath: an unreadable path names the system code, never the path; with another way it is refused', () => {
  const base = { tenantId: 'contoso.onmicrosoft.com', clientId: 'api', userAssertionToken: 'user.token' }
  expect(() => new OnBehalfOfCredential({ ...base, certificatePath: join(directory, 'missing-secret-name.pem') })).toThrow(
    expect.objectContaining({ code: 'AZCRED_CONFIG_INVALID', message: expect.stringMatching(/ENOENT/) }),
  )
  try {
    new OnBehalfOfCredential({ ...base, certificatePath: join(directory, 'missing-secret-name.pem') })
  } catch (error) {
    expect((error as Error).message).not.toContain('missing-secret-name')
  }
  expect(
    () =>
      new OnBehalfOfCredential({ ...base, certificatePath: '/x.pem', clientSecret: 's' } as unknown as ConstructorParameters<typeof OnBehalfOfCredential>[0]),
  ).toThrow(/certificatePath and clientSecret were given/)
  expect(() => new OnBehalfOfCredential({ ...base, clientSecret: 'secret' })).not.toThrow()
})
