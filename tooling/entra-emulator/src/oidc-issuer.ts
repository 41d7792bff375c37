import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose'

/** What an emulated external identity provider issues. */
export interface IssueOptions {
  subject: string
  audience: string | string[]
  /** Lifetime in seconds. Default 600. */
  lifetimeSeconds?: number
  /** Seconds to move `iat`/`nbf`/`exp` by (negative for a token issued in the past). Default 0. */
  shiftSeconds?: number
  /** Extra claims. */
  claims?: Record<string, unknown>
}

/** An external OIDC issuer (GitHub Actions, a Kubernetes cluster, Cognito) that signs JWTs. */
export interface OidcIssuer {
  readonly issuer: string
  readonly jwks: JSONWebKeySet
  issue(options: IssueOptions): Promise<string>
}

/** Creates an in-process OIDC issuer with its own RS256 key. Trust it with `emulator.trustIssuer`. */
export async function createOidcIssuer(issuer: string): Promise<OidcIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const kid = randomUUID()
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] }
  return {
    issuer,
    jwks,
    async issue(options) {
      const now = Math.floor(Date.now() / 1000) + (options.shiftSeconds ?? 0)
      return new SignJWT({ ...options.claims, jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setIssuer(issuer)
        .setSubject(options.subject)
        .setAudience(options.audience)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + (options.lifetimeSeconds ?? 600))
        .sign(privateKey)
    },
  }
}
