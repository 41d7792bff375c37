import {
  type AccessToken,
  AzcredError,
  assertNonEmpty,
  assertTenantId,
  type EntraCredentialOptions,
  type GetTokenOptions,
  JWT_BEARER_ASSERTION_TYPE,
  requestClientCredentialsToken,
  resolveAuthorityHost,
  type TokenCredential,
  TokenLifecycle,
  tokenEndpoint,
} from '@azcred/core'
import { SignJWT } from 'jose/jwt/sign'
import { DAMAGED, loadCertificatePem } from './certificate-pem'

/** A certificate given as PEM text (private key plus certificate chain). */
export interface ClientCertificatePemConfiguration {
  certificate: string
}

/** Options of {@link ClientCertificateCredential}. */
export interface ClientCertificateCredentialOptions extends EntraCredentialOptions {
  /**
   * Send the chain as `x5c`, leaf first (for subject-name/issuer authentication); the official
   * libraries read it from `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`. Default false.
   */
  sendCertificateChain?: boolean
  /** Signature algorithm: `PS256` (default, current guidance) or `RS256`. */
  algorithm?: 'PS256' | 'RS256'
  /** Lifetime of each signed assertion, in whole seconds from 1 to 3600. Default 600. */
  assertionLifetimeSeconds?: number
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
 * App-only tokens from a certificate: a client assertion JWT signed with the RSA private key (PS256
 * by default, RS256 on request) carrying `x5t#S256` and legacy `x5t` of the certificate that holds
 * the key's public half (wherever it sits in the PEM), and `x5c` with `sendCertificateChain`. An
 * assertion is reused until less than half its lifetime is left. Same name and constructor as
 * `@azure/identity`'s; certificate files and encrypted keys need the `@azcred/client-certificate/node` entry.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID from the constructor for a malformed PEM, a missing,
 * encrypted, damaged or incomplete key, a key that is not RSA (Entra ID accepts only RSA certificate
 * credentials) or has fewer than 2048 bits, a key no certificate in the PEM matches, an expired
 * certificate, or an invalid `algorithm` or `assertionLifetimeSeconds`; from `getToken`, when the
 * runtime's WebCrypto cannot import the key or sign with it (tried again on the next call).
 * @example const credential = new ClientCertificateCredential(tenantId, clientId, { certificate: pemText })
 */
export class ClientCertificateCredential implements TokenCredential {
  readonly #lifecycle: TokenLifecycle

  constructor(tenantId: string, clientId: string, certificate: ClientCertificatePemConfiguration | string, options: ClientCertificateCredentialOptions = {}) {
    assertTenantId(tenantId)
    assertNonEmpty(clientId, 'clientId', 'pass the application (client) id of the app registration')
    if (typeof certificate === 'string' && !certificate.includes('-----BEGIN')) {
      throw new AzcredError(
        'AZCRED_CONFIG_INVALID',
        'certificate paths need the Node entry: import { ClientCertificateCredential } from "@azcred/client-certificate/node"',
      )
    }
    const loaded = loadCertificatePem(
      typeof certificate === 'string' ? certificate : (certificate as Partial<ClientCertificatePemConfiguration> | null)?.certificate,
    )
    const authorityHost = resolveAuthorityHost(options)
    const { algorithm: alg = 'PS256', assertionLifetimeSeconds: lifetimeSeconds = 600 } = options
    if (alg !== 'PS256' && alg !== 'RS256') throw new AzcredError('AZCRED_CONFIG_INVALID', 'algorithm must be PS256 or RS256')
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > 3600) {
      throw new AzcredError('AZCRED_CONFIG_INVALID', 'assertionLifetimeSeconds must be a whole number of seconds from 1 to 3600')
    }
    const { fetch, timeoutMs } = options
    // The key and its derived values live only in this closure.
    let signing: Promise<{ key: CryptoKey; header: Record<string, unknown> }> | undefined
    const assertions = new Map<string, { jwt: string; reuseUntil: number }>()
    const prepare = async () => {
      const digest = (name: string) => crypto.subtle.digest(name, loaded.chain[0] as Uint8Array<ArrayBuffer>)
      const header: Record<string, unknown> = { alg, typ: 'JWT', 'x5t#S256': base64url(await digest('SHA-256')), x5t: base64url(await digest('SHA-1')) }
      if (options.sendCertificateChain === true) header.x5c = loaded.chain.map(base64)
      const params = { name: alg === 'PS256' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      const key = await crypto.subtle.importKey('pkcs8', loaded.privateKey as Uint8Array<ArrayBuffer>, params, false, ['sign'])
      return { key, header }
    }
    const assertionFor = async (tenant: string): Promise<string> => {
      const now = Date.now()
      const reusable = assertions.get(tenant)
      if (reusable !== undefined && reusable.reuseUntil > now) return reusable.jwt
      signing ??= prepare()
      const issuedAt = Math.floor(now / 1000)
      let jwt: string
      try {
        const { key, header } = await signing
        jwt = await new SignJWT({ jti: crypto.randomUUID() })
          .setProtectedHeader(header as { alg: string })
          .setAudience(tokenEndpoint(authorityHost, tenant))
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
      assertions.set(tenant, { jwt, reuseUntil: now + (lifetimeSeconds * 1000) / 2 })
      return jwt
    }
    this.#lifecycle = new TokenLifecycle({
      ...options,
      credentialName: 'ClientCertificateCredential',
      appOnly: true, // common, organizations and consumers cannot issue app-only tokens
      tenantId,
      fetchToken: async (request) =>
        requestClientCredentialsToken({
          authorityHost,
          clientId,
          request,
          clientAuthentication: { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertionFor(request.tenantId) },
          fetch,
          timeoutMs,
          hints: CERTIFICATE_HINTS,
        }),
    })
  }

  /**
   * A token for the scopes, from core's lifecycle engine.
   * @throws AzcredError AZCRED_CONFIG_INVALID when the key cannot be imported or sign,
   * AZCRED_TOKEN_REQUEST_FAILED and the transport codes.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    return this.#lifecycle.getToken(scopes, options)
  }
}
