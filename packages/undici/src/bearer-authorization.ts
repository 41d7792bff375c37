import { AzcredError, type TokenCredential } from '@azcred/core'

/**
 * Reads the `claims` of a `WWW-Authenticate: Bearer … error="insufficient_claims", claims="<base64>"`
 * challenge (continuous access evaluation) and returns them decoded, or undefined when there is none.
 */
export function parseClaimsChallenge(header: string | string[] | undefined): string | undefined {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header]
  for (const value of values) {
    if (!/^\s*Bearer\b/i.test(value)) continue
    const match = /\bclaims="([^"]*)"/i.exec(value)
    if (match?.[1] === undefined || match[1] === '') continue
    try {
      return atob(match[1].replace(/-/g, '+').replace(/_/g, '/'))
    } catch {
      // A malformed challenge is treated as no challenge: the 401 reaches the caller.
    }
  }
  return undefined
}

function unusable(what: string): AzcredError {
  return new AzcredError('AZCRED_RESPONSE_INVALID', `the credential returned ${what}: nothing was sent; check the credential`)
}

/**
 * The `Authorization` value for the scopes: `Bearer <token>`, asked with `claims` after a challenge.
 * Only a Bearer token (`tokenType` 'Bearer' in any case, or none) of printable ASCII without spaces
 * goes into the header.
 * @throws AzcredError AZCRED_RESPONSE_INVALID when the credential returns no token (`null`), a token of
 * another type (such as 'pop', which must not be sent as Bearer), or a token with a line break, space,
 * control or non-ASCII character (never echoed). The credential's own errors pass through.
 */
export async function bearerAuthorization(credential: TokenCredential, scopes: string | string[], claims?: string): Promise<string> {
  const token = await credential.getToken(scopes, claims === undefined ? {} : { claims })
  if (typeof token?.token !== 'string') throw unusable('no access token')
  const type = token.tokenType ?? 'Bearer'
  if (typeof type !== 'string' || type.toLowerCase() !== 'bearer') throw unusable('a token that is not a Bearer token (tokenType)')
  if (!/^[!-~]+$/.test(token.token)) throw unusable('an access token with a line break, space, control or non-ASCII character')
  return `Bearer ${token.token}`
}
