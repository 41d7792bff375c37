/**
 * Decodes base64url (padded or not) text holding UTF-8 JSON, as a JWT segment or Entra's
 * `client_info` carries it. Undefined when it is not base64 or not JSON.
 * @internal For azcred's own packages; not covered by semver.
 */
export function decodeBase64UrlJson(text: string): unknown {
  try {
    // atob decodes unpadded base64 (the forgiving decode of the HTML standard, as Node and browsers implement it).
    const bytes = Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (character) => character.charCodeAt(0))
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
}

/**
 * Reads a JWT's payload without verifying it: for expiry-based caching and for explaining which
 * issuer, subject and audience a federated token presented. Returns undefined for anything that is
 * not a JWT. Never log the token itself.
 * @internal For azcred's own packages; not covered by semver.
 */
export function readJwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  const claims = payload === undefined ? undefined : decodeBase64UrlJson(payload)
  return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined
}

/**
 * `iss`, `sub` and `aud` of a JWT as one line, such as `iss "…", sub "…", aud "…"`; safe to show.
 * @internal For azcred's own packages; not covered by semver.
 */
export function describeJwtSubject(token: string): string {
  const claims = readJwtClaims(token)
  if (claims === undefined) return 'a value that is not a JWT'
  // JSON values only (no symbols), so a template prints them as String() would; an aud array joins with ','.
  return `iss "${claims.iss}", sub "${claims.sub}", aud "${claims.aud}"`
}

/**
 * A JWT's `exp` in milliseconds since the epoch, or 0 when it has none (treat it as stale).
 * @internal For azcred's own packages; not covered by semver.
 */
export function jwtExpiresAt(token: string): number {
  const expiry = readJwtClaims(token)?.exp
  return typeof expiry === 'number' ? expiry * 1000 : 0
}
