import { AzcredError, type ClientAuthentication, JWT_BEARER_ASSERTION_TYPE, tokenEndpoint } from '@azcred/core'
import { SignJWT } from 'jose/jwt/sign'
import { DAMAGED, loadCertificatePem } from './certificate-pem'

/** A certificate given as PEM text (private key plus certificate chain). */
export interface ClientCertificatePemConfiguration {
  certificate: string
}

/** Options of {@link clientCertificateAuthentication}: how each client assertion is signed. */
export interface ClientCertificateAuthenticationOptions {
  /**
   * Send the chain as `x5c`, leaf first (for subject-name/issuer authentication); the official
   * libraries read it from `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`. Default false.
   */
  sendCertificateChain?: boolean | undefined
  /** Signature algorithm: `PS256` (default, current guidance) or `RS256`. */
  algorithm?: 'PS256' | 'RS256' | undefined
  /** Lifetime of each signed assertion, in whole seconds from 1 to 3600. Default 600. */
  assertionLifetimeSeconds?: number | undefined
}

const CERTIFICATE_HINTS: Record<number, string> = {
  700027: 'the assertion is not signed by a certificate registered on the app: upload this certificate (or check the thumbprint)',
  700024: 'the assertion is outside its valid time range: check the machine clock',
  50027: 'the assertion is not a valid JWT',
}

const base64url = (bytes: ArrayBuffer | Uint8Array): string => {
  let binary = ''
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
const base64 = (bytes: Uint8Array): string => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * A certificate as a {@link ClientAuthentication}: each request carries a client assertion JWT
 * signed with the RSA private key (PS256 by default, RS256 on request), with `x5t#S256` and legacy
 * `x5t` of the certificate that holds the key's public half (wherever it sits in the PEM) and `x5c`
 * with `sendCertificateChain`; `aud` is the tenant's token endpoint, `iss` = `sub` = the request's
 * client id, a fresh `jti`, `nbf` = `iat` = now, `exp` after `assertionLifetimeSeconds`. An assertion
 * is reused for the same token endpoint and client id until less than half its lifetime is left
 * (`forceRefresh` signs a new one). Any grant composes it: client credentials, on-behalf-of,
 * authorization-code redemption. The key lives only in this value's closure. Certificate files and
 * encrypted keys: the same function from `@azcred/client-certificate/node`.
 * @throws AzcredError AZCRED_CONFIG_INVALID for a certificate path (use the Node entry), a malformed
 * PEM, a missing, encrypted, damaged or incomplete key, a key that is not RSA or has fewer than 2048
 * bits, a key no certificate in the PEM matches, an expired certificate, or an invalid `algorithm` or
 * `assertionLifetimeSeconds`; from `formFields`, when the runtime's WebCrypto cannot import the key or
 * sign with it (tried again on the next call).
 * @example const clientAuthentication = clientCertificateAuthentication({ certificate: pemText })
 */
export function clientCertificateAuthentication(
  certificate: ClientCertificatePemConfiguration | string,
  options: ClientCertificateAuthenticationOptions = {},
): ClientAuthentication {
  if (typeof certificate === 'string' && !certificate.includes('-----BEGIN')) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      'certificate paths need the Node entry: import { ClientCertificateCredential } from "@azcred/client-certificate/node"',
    )
  }
  const loaded = loadCertificatePem(
    typeof certificate === 'string' ? certificate : (certificate as Partial<ClientCertificatePemConfiguration> | null)?.certificate,
  )
  const { algorithm: alg = 'PS256', assertionLifetimeSeconds: lifetimeSeconds = 600 } = options
  if (alg !== 'PS256' && alg !== 'RS256') throw new AzcredError('AZCRED_CONFIG_INVALID', 'algorithm must be PS256 or RS256')
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > 3600) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'assertionLifetimeSeconds must be a whole number of seconds from 1 to 3600')
  }
  // The key and its derived values live only in this closure.
  let signing: Promise<{ key: CryptoKey; header: Record<string, unknown> }> | undefined
  // By `${audience} ${clientId}` (an audience has no space).
  const assertions = new Map<string, { jwt: string; reuseUntil: number }>()
  const prepare = async () => {
    const digest = (name: string) => crypto.subtle.digest(name, loaded.chain[0] as Uint8Array<ArrayBuffer>)
    const header: Record<string, unknown> = { alg, typ: 'JWT', 'x5t#S256': base64url(await digest('SHA-256')), x5t: base64url(await digest('SHA-1')) }
    if (options.sendCertificateChain === true) header.x5c = loaded.chain.map(base64)
    const params = { name: alg === 'PS256' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    const key = await crypto.subtle.importKey('pkcs8', loaded.privateKey as Uint8Array<ArrayBuffer>, params, false, ['sign'])
    return { key, header }
  }
  return {
    async formFields({ tenantId, authorityHost, clientId, forceRefresh }) {
      const now = Date.now()
      const audience = tokenEndpoint(authorityHost, tenantId)
      const cacheKey = `${audience} ${clientId}`
      const reusable = assertions.get(cacheKey)
      if (forceRefresh || reusable === undefined || reusable.reuseUntil <= now) {
        signing ??= prepare()
        const issuedAt = Math.floor(now / 1000)
        let jwt: string
        try {
          const { key, header } = await signing
          jwt = await new SignJWT({ jti: crypto.randomUUID() })
            .setProtectedHeader(header as { alg: string })
            .setAudience(audience)
            .setIssuer(clientId)
            .setSubject(clientId)
            .setIssuedAt(issuedAt)
            .setNotBefore(issuedAt)
            .setExpirationTime(issuedAt + lifetimeSeconds)
            .sign(key)
        } catch {
          // The next call imports the key again. Nothing of the error: a crypto error is no place for key material.
          signing = undefined
          throw new AzcredError('AZCRED_CONFIG_INVALID', `certificate: WebCrypto refused the key: ${DAMAGED}`)
        }
        // Stale entries go, so a credential switching among many tenants keeps only fresh assertions.
        for (const [key, entry] of assertions) if (entry.reuseUntil <= now) assertions.delete(key)
        assertions.set(cacheKey, { jwt, reuseUntil: now + (lifetimeSeconds * 1000) / 2 })
        return { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: jwt }
      }
      return { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: reusable.jwt }
    },
    hints: CERTIFICATE_HINTS,
  }
}
