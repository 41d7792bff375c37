import { randomUUID } from 'node:crypto'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

/** Signs the emulator's access tokens (RS256) and publishes the public key as a JWKS. */
export interface TokenSigner {
  readonly jwks: { keys: JWK[] }
  sign(claims: Record<string, unknown>, lifetimeSeconds: number): Promise<string>
}

export async function createTokenSigner(): Promise<TokenSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const kid = randomUUID()
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }
  const key: CryptoKey = privateKey
  return {
    jwks: { keys: [publicJwk] },
    async sign(claims, lifetimeSeconds) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ ...claims, uti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(key)
    },
  }
}
