import type { TokenCredential } from '@azcred/core'

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

/** The `Authorization` value for the scopes: `Bearer <token>`, asked with `claims` after a challenge. */
export async function bearerAuthorization(credential: TokenCredential, scopes: string | string[], claims?: string): Promise<string> {
  const token = await credential.getToken(scopes, claims === undefined ? {} : { claims })
  if (token === null) throw new Error('the credential returned no token')
  return `Bearer ${token.token}`
}
