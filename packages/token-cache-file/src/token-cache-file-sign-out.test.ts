import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serializeTokenCacheEntry, type TokenResponse, tokenCacheKey, UserTokenLifecycle } from '@azcred/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { persistentTokenCache } from './index'

// Issue 13 item 4: signing out wipes the account's tokens on disk AND in memory.
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
const AUTHORITY = 'https://login.example'
const VAULT = 'https://vault.azure.net/.default'
const HOUR = 3_600_000
const ACCOUNT = `user-oid-1.${TENANT}`
const OTHER = `user-oid-2.${TENANT}`

let directory: string
beforeEach(() => {
  directory = join(mkdtempSync(join(tmpdir(), 'azcred-signout-')), 'cache')
})
afterEach(() => {
  rmSync(join(directory, '..'), { recursive: true, force: true })
})

describe('UserTokenLifecycle#signOut with a FileTokenCache', () => {
  it('leaves no refresh or access token of the account in the file or in memory; another account keeps its entries', async () => {
    const refreshToken = `rt-PLANTED-${randomBytes(12).toString('hex')}`
    const accessToken = `at-PLANTED-${randomBytes(12).toString('hex')}`
    const otherRefreshToken = `rt-OTHER-${randomBytes(12).toString('hex')}`
    // Unencrypted, so the test can read the raw bytes.
    const cache = persistentTokenCache({ enabled: true, name: 'signout', directory, unsafeAllowUnencryptedStorage: true })
    const signIn = async (): Promise<TokenResponse> => ({
      accessToken: { token: accessToken, expiresOnTimestamp: Date.now() + HOUR },
      refreshToken,
      homeAccountId: ACCOUNT,
      idTokenClaims: { tid: TENANT, preferred_username: 'ada@contoso.example' },
    })
    const config = { credentialName: 'TestUserCredential', tenantId: TENANT, clientId: CLIENT, authorityHost: AUTHORITY, tokenCache: cache }
    const noNetwork = async (): Promise<Response> => {
      throw new Error('no request expected')
    }
    const lifecycle = new UserTokenLifecycle({ ...config, interactive: signIn, disableAutomaticAuthentication: true, fetch: noNetwork })
    const record = await lifecycle.authenticate(VAULT)
    expect((await lifecycle.getToken(VAULT)).token).toBe(accessToken)
    await cache.saveAuthenticationRecord(record)
    const otherKey = tokenCacheKey({ kind: 'refresh_token', authority: AUTHORITY, clientId: CLIENT, account: OTHER, tenantId: '', scopes: '', cae: false })
    await cache.write(otherKey, serializeTokenCacheEntry({ refreshToken: otherRefreshToken, account: OTHER }), Date.now() + HOUR)
    await vi.waitFor(() => expect(readFileSync(cache.path, 'utf8')).toContain(accessToken))
    expect(readFileSync(cache.path, 'utf8')).toContain(refreshToken)

    await lifecycle.signOut()
    const raw = readFileSync(cache.path, 'utf8')
    expect(raw).not.toContain(refreshToken)
    expect(raw).not.toContain(accessToken)
    expect(raw).toContain(otherRefreshToken)
    expect(await cache.loadAuthenticationRecord({ clientId: CLIENT })).toBeUndefined()
    expect(lifecycle.authenticationRecord).toBeUndefined()
    await expect(lifecycle.getToken(VAULT)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
    // A restarted process with the stored record finds nothing to redeem either.
    const restarted = new UserTokenLifecycle({ ...config, authenticationRecord: record, disableAutomaticAuthentication: true, fetch: noNetwork })
    await expect(restarted.getToken(VAULT)).rejects.toMatchObject({ code: 'AZCRED_INTERACTION_REQUIRED' })
  })
})
