import { AzcredError, assertTenantId, DEFAULT_AUTHORITY_HOST, normalizeAuthorityHost } from '@azcred/core'

/**
 * Options of {@link claimsChallengeHeader}: where the caller signs the user in again.
 * @public
 */
export interface ClaimsChallengeOptions {
  /** The Entra ID host of `authorization_uri`. Default `https://login.microsoftonline.com`. */
  authorityHost?: string | undefined
  /** The tenant of `authorization_uri` (a GUID, a domain, `organizations` or `common`). Default `common`. */
  tenantId?: string | undefined
}

const toBase64 = (text: string): string => {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * The `WWW-Authenticate` value an API returns with a 401 when on-behalf-of needs the user to act
 * (consent, multi-factor authentication, Conditional Access): for an `AZCRED_INTERACTION_REQUIRED`
 * error with Entra's `claims`, `Bearer realm="", authorization_uri="<host>/<tenant>/oauth2/v2.0/authorize",
 * error="insufficient_claims", claims="<base64 of the claims JSON>"` (Microsoft's claims-challenge
 * format: the caller's MSAL decodes `claims` and signs the user in again with it); without claims
 * (consent), the same with `error="interaction_required"` and no `claims`. Undefined for any other error.
 * The value holds no token or secret.
 * @throws AzcredError AZCRED_CONFIG_INVALID for an `authorityHost` that is not https or a malformed `tenantId`.
 * @example
 * catch (error) {
 *   const challenge = claimsChallengeHeader(error)
 *   if (challenge) return new Response(null, { status: 401, headers: { 'WWW-Authenticate': challenge } })
 * }
 * @public
 */
export function claimsChallengeHeader(error: unknown, options: ClaimsChallengeOptions = {}): string | undefined {
  if (!AzcredError.isInstance(error) || error.code !== 'AZCRED_INTERACTION_REQUIRED') return undefined
  const { authorityHost = DEFAULT_AUTHORITY_HOST, tenantId = 'common' } = options ?? {}
  assertTenantId(tenantId)
  const authorizationUri = `${normalizeAuthorityHost(authorityHost)}/${tenantId}/oauth2/v2.0/authorize`
  const claims = typeof error.claims === 'string' && error.claims.trim() !== '' ? error.claims : undefined
  return claims === undefined
    ? `Bearer realm="", authorization_uri="${authorizationUri}", error="interaction_required"`
    : `Bearer realm="", authorization_uri="${authorizationUri}", error="insufficient_claims", claims="${toBase64(claims)}"`
}
