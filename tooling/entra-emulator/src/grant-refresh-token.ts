import { hasConsented } from './delegated-scopes'
import { type EntraErrorAnswer, entraError } from './entra-errors'
import type { TokenAnswer } from './grant-context'
import { consentRequired, mfaRequired, type UserGrantContext, userGrantClient, userGrantScopes } from './user-grant-context'
import { issueUserTokens } from './user-tokens'

/**
 * `grant_type=refresh_token`: a token for any resource the user consented to (a new audience needs no new
 * sign-in), a new refresh token each time (the old one stays valid unless the emulator says otherwise).
 * Refusals, as Entra sends them: revoked AADSTS50173, expired AADSTS700082, rotated out or issued to another
 * client AADSTS70000, unknown AADSTS9002313 (all `invalid_grant`); consent AADSTS65001; MFA AADSTS50076.
 */
export async function refreshTokenGrant(context: UserGrantContext): Promise<TokenAnswer | EntraErrorAnswer> {
  const { form, correlationId } = context
  const token = form.get('refresh_token')
  if (token === null || token === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'refresh_token'.", correlationId)
  }
  const client = await userGrantClient(context)
  if ('status' in client) return client
  const scopes = userGrantScopes(context)
  if ('status' in scopes) return scopes
  const record = context.users.refreshTokens.find(token)
  if (record === undefined) {
    return entraError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid. The refresh token is not valid.', correlationId)
  }
  if (record.clientId.toLowerCase() !== client.app.clientId.toLowerCase() || record.tenantId !== context.tenantId) {
    return entraError(
      400,
      'invalid_grant',
      70000,
      'Provided grant is invalid or malformed: the refresh token was issued to another client or tenant.',
      correlationId,
    )
  }
  switch (record.state) {
    case 'revoked':
      return entraError(
        400,
        'invalid_grant',
        50173,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on a date before the user's sign-in session was revoked.",
        correlationId,
        { suberror: 'bad_token' },
      )
    case 'expired':
      return entraError(
        400,
        'invalid_grant',
        700082,
        'The refresh token has expired due to inactivity. The token was issued too long ago and was inactive.',
        correlationId,
        { suberror: 'bad_token' },
      )
    case 'rotated':
      return entraError(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed: the refresh token was already redeemed.', correlationId)
    case 'valid':
      break
  }
  const user = record.signIn.user
  if (!hasConsented(user, scopes)) return consentRequired(client.app.clientId, scopes.resource, correlationId)
  if (context.users.mfa.unsatisfied(record.signIn, scopes.resource)) return mfaRequired(scopes.resource, correlationId)
  context.users.refreshTokens.redeemed(token)
  return issueUserTokens(context.users, {
    app: client.app,
    signIn: record.signIn,
    scopes: { ...scopes, oidc: scopes.oidc.includes('offline_access') ? scopes.oidc : [...scopes.oidc, 'offline_access'] },
    tenantId: context.tenantId,
    clientAuthentication: client.clientAuthentication,
    clientInfo: form.get('client_info') === '1',
  })
}
