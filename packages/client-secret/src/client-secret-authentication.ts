import { assertNonEmpty, type ClientAuthentication } from '@azcred/core'

// What to do about the refusals only a secret meets.
const SECRET_HINTS: Record<number, string> = {
  7000215: 'the client secret is wrong: use the secret Value (not its ID), or create a new one if it was rotated',
  7000222: 'the client secret has expired: create a new one in the app registration',
}

/**
 * A client secret as a {@link ClientAuthentication}: the `client_secret` form field, plus the fix
 * hints for a wrong (AADSTS7000215) or expired (AADSTS7000222) secret. Any grant composes it
 * (`requestTokenGrant`'s `clientAuthentication`): client credentials, on-behalf-of, authorization-code
 * and refresh-token redemption. The secret lives only in a closure: `JSON.stringify` and
 * `util.inspect` of the value never show it.
 * @param clientSecret the secret Value from the app registration (Certificates & secrets).
 * @throws AzcredError AZCRED_CONFIG_INVALID when `clientSecret` is not a non-empty string.
 * @example
 * const clientAuthentication = clientSecretAuthentication(process.env.AZURE_CLIENT_SECRET)
 */
export function clientSecretAuthentication(clientSecret: string): ClientAuthentication {
  assertNonEmpty(clientSecret, 'clientSecret', 'pass the secret Value from the app registration (Certificates & secrets)')
  return { formFields: () => ({ client_secret: clientSecret }), hints: SECRET_HINTS }
}
