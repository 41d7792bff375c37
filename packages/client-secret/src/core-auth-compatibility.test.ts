// Type-level and runtime proof that our credential is an @azure/core-auth TokenCredential: it is
// accepted by an official Azure SDK client constructor without a cast.
import type { TokenCredential as CoreAuthTokenCredential } from '@azure/core-auth'
import { SecretClient } from '@azure/keyvault-secrets'
import { expect, expectTypeOf, it } from 'vitest'
import { ClientSecretCredential } from './index'

it('is assignable to @azure/core-auth TokenCredential and accepted by SecretClient', () => {
  const credential = new ClientSecretCredential('contoso.onmicrosoft.com', 'client-id', 'client-secret')
  expectTypeOf(credential).toMatchTypeOf<CoreAuthTokenCredential>()
  const asCoreAuth: CoreAuthTokenCredential = credential
  const client = new SecretClient('https://example-vault.vault.azure.net', credential)
  expect(client.vaultUrl).toBe('https://example-vault.vault.azure.net')
  expect(typeof asCoreAuth.getToken).toBe('function')
})
