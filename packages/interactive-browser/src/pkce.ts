import { createHash, randomBytes } from 'node:crypto'

/** A PKCE pair (RFC 7636): the secret `verifier` and its S256 `challenge`. */
export interface Pkce {
  /** 43 base64url characters (32 random bytes); a secret, sent only to the token endpoint. */
  verifier: string
  /** base64url(SHA-256(verifier)), sent in the authorize URL with `code_challenge_method=S256`. */
  challenge: string
}

/** A fresh PKCE pair with the S256 method (RFC 7636 §4.1, §4.2). */
export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: pkceChallenge(verifier) }
}

/** The S256 challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

/** A random, unguessable `state` (24 bytes, base64url): it binds a redirect to the sign-in that started it. */
export function randomState(): string {
  return randomBytes(24).toString('base64url')
}
