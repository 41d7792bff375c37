import { createLocalJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose'
import { hasConsented } from './delegated-scopes'
import { type EntraErrorAnswer, entraError } from './entra-errors'
import type { TokenAnswer } from './grant-context'
import { consentRequired, mfaRequired, type UserGrantContext, userGrantScopes } from './user-grant-context'
import { issueUserTokens, type SignIn } from './user-tokens'

/** `grant_type` of the on-behalf-of flow (RFC 7523 JWT bearer grant with `requested_token_use=on_behalf_of`). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

/**
 * On-behalf-of: a confidential client (secret, certificate or assertion) presents a user's access token for
 * itself (`assertion`) and gets a delegated token for a downstream resource plus, with `offline_access`, a
 * refresh token. The assertion must be signed by the emulator's key (else `invalid_grant` AADSTS50013), not
 * expired (AADSTS500133; no clock skew allowed) and addressed to the calling app — its client id or one of its
 * App ID URIs (else AADSTS50013). Consent (65001) and MFA rules (50076 with `claims`, unless the assertion's
 * `amr` has `mfa`) apply to the downstream resource.
 */
export async function onBehalfOfGrant(context: UserGrantContext): Promise<TokenAnswer | EntraErrorAnswer> {
  const { form, correlationId } = context
  if (form.get('requested_token_use') !== 'on_behalf_of') {
    return entraError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'requested_token_use' = 'on_behalf_of'.",
      correlationId,
    )
  }
  const assertion = form.get('assertion')
  if (assertion === null || assertion === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'assertion'.", correlationId)
  }
  const app = await context.authenticateClient()
  if ('status' in app) return app
  const scopes = userGrantScopes(context)
  if ('status' in scopes) return scopes
  let claims: JWTPayload
  try {
    decodeJwt(assertion)
  } catch {
    return entraError(400, 'invalid_grant', 50027, 'JWT token is invalid or malformed.', correlationId)
  }
  try {
    claims = (await jwtVerify(assertion, createLocalJWKSet(context.users.signer.jwks))).payload
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_JWT_EXPIRED' || (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'nbf')) {
      return entraError(
        400,
        'invalid_grant',
        500133,
        'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion.',
        correlationId,
      )
    }
    return entraError(400, 'invalid_grant', 50013, 'Assertion failed signature validation. [Reason - The key was not found.]', correlationId)
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud ?? '']
  const ownAudiences = [app.clientId.toLowerCase(), ...app.identifierUris.map((uri) => uri.toLowerCase())]
  if (!audiences.some((audience) => ownAudiences.includes(audience.toLowerCase()))) {
    return entraError(400, 'invalid_grant', 50013, 'Assertion audience does not match the Client app presenting the assertion.', correlationId)
  }
  const user = typeof claims.oid === 'string' ? context.directory.findUserByOid(claims.oid) : undefined
  if (user === undefined || claims.idtyp === 'app') {
    return entraError(400, 'invalid_grant', 50013, 'Assertion contains no user: on-behalf-of needs an access token issued to a user.', correlationId)
  }
  const mfa = Array.isArray(claims.amr) && claims.amr.includes('mfa')
  const signIn: SignIn = {
    user,
    authTime: typeof claims.iat === 'number' ? claims.iat : Math.floor(Date.now() / 1000),
    mfaGeneration: mfa ? context.users.mfa.generation : 0,
  }
  if (!hasConsented(user, scopes)) return consentRequired(app.clientId, scopes.resource, correlationId)
  if (context.users.mfa.unsatisfied(signIn, scopes.resource)) return mfaRequired(scopes.resource, correlationId)
  return issueUserTokens(context.users, {
    app,
    signIn,
    scopes,
    tenantId: context.tenantId,
    clientAuthentication: form.has('client_assertion') ? '2' : '1',
    clientInfo: form.get('client_info') === '1',
  })
}
