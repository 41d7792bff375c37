import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { DelegatedScopes } from './delegated-scopes'
import { type EntraErrorAnswer, entraError } from './entra-errors'
import type { TokenAnswer } from './grant-context'
import { type UserGrantContext, userGrantClient } from './user-grant-context'
import { issueUserTokens, type SignIn } from './user-tokens'

/** Authorization codes live ten minutes, as Entra's. */
const CODE_LIFETIME_MS = 10 * 60_000

/** What an authorization code stands for. */
export interface AuthorizationCodeRecord {
  readonly clientId: string
  readonly tenantId: string
  readonly redirectUri: string
  readonly scopes: DelegatedScopes
  readonly signIn: SignIn
  readonly codeChallenge?: string
  readonly codeChallengeMethod?: 'S256' | 'plain'
  readonly nonce?: string
  readonly expiresAt: number
  used: boolean
}

/** Authorization codes issued by the sign-in page, each redeemable once. */
export class AuthorizationCodeStore {
  readonly #codes = new Map<string, AuthorizationCodeRecord>()

  issue(record: Omit<AuthorizationCodeRecord, 'used' | 'expiresAt'>): string {
    const code = `emu-ac.${randomBytes(32).toString('base64url')}`
    this.#codes.set(code, { ...record, expiresAt: Date.now() + CODE_LIFETIME_MS, used: false })
    return code
  }

  get(code: string): AuthorizationCodeRecord | undefined {
    return this.#codes.get(code)
  }

  /** Makes every unused code expire now (to test AADSTS70008). Returns how many. */
  expireAll(): number {
    let count = 0
    for (const [code, record] of this.#codes) {
      if (!record.used && record.expiresAt > Date.now()) {
        this.#codes.set(code, { ...record, expiresAt: Date.now() - 1 })
        count += 1
      }
    }
    return count
  }
}

/** A PKCE `code_verifier` or `code_challenge`: 43 to 128 unreserved characters (RFC 7636 sections 4.1 and 4.2). */
export const PKCE_VALUE = /^[\w.~-]{43,128}$/

/** True when `verifier` answers the PKCE challenge (RFC 7636: S256 = base64url(SHA-256(verifier)), plain = itself). */
export function pkceMatches(challenge: string, method: 'S256' | 'plain', verifier: string): boolean {
  const expected = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
  const left = Buffer.from(expected)
  const right = Buffer.from(challenge)
  return left.length === right.length && timingSafeEqual(left, right)
}

/**
 * `grant_type=authorization_code`: redeems a code once (a second use: `invalid_grant` AADSTS54005), with the
 * redirect URI of the authorize request, exactly (else AADSTS500112), the PKCE `code_verifier` (AADSTS501481
 * when missing, wrong, or not 43 to 128 unreserved characters), and client authentication for a confidential client.
 */
export async function authorizationCodeGrant(context: UserGrantContext, store: AuthorizationCodeStore): Promise<TokenAnswer | EntraErrorAnswer> {
  const { form, correlationId } = context
  const code = form.get('code')
  if (code === null || code === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code'.", correlationId)
  }
  const redirectUri = form.get('redirect_uri')
  if (redirectUri === null || redirectUri === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'redirect_uri'.", correlationId)
  }
  const client = await userGrantClient(context)
  if ('status' in client) return client
  const record = store.get(code)
  if (record === undefined) {
    return entraError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid. The authorization code is not valid.', correlationId)
  }
  if (record.used) {
    return entraError(
      400,
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      correlationId,
    )
  }
  if (record.expiresAt <= Date.now()) {
    return entraError(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      correlationId,
    )
  }
  if (record.clientId.toLowerCase() !== client.app.clientId.toLowerCase() || record.tenantId !== context.tenantId) {
    return entraError(
      400,
      'invalid_grant',
      70000,
      'Provided grant is invalid or malformed: the authorization code was issued to another client or tenant.',
      correlationId,
    )
  }
  // Exactly the authorize request's URI (RFC 6749 section 4.1.3): a public client's loopback port is ignored
  // only when that URI is matched against the registered ones.
  if (record.redirectUri !== redirectUri) {
    return entraError(
      400,
      'invalid_grant',
      500112,
      'The reply address does not match the reply address provided when requesting the authorization code.',
      correlationId,
    )
  }
  if (record.codeChallenge !== undefined) {
    const verifier = form.get('code_verifier')
    if (verifier === null || !PKCE_VALUE.test(verifier) || !pkceMatches(record.codeChallenge, record.codeChallengeMethod ?? 'plain', verifier)) {
      return entraError(
        400,
        'invalid_grant',
        501481,
        'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        correlationId,
      )
    }
  }
  record.used = true
  return issueUserTokens(context.users, {
    app: client.app,
    signIn: record.signIn,
    scopes: record.scopes,
    tenantId: context.tenantId,
    clientAuthentication: client.clientAuthentication,
    ...(record.nonce !== undefined ? { nonce: record.nonce } : {}),
    clientInfo: form.get('client_info') === '1',
  })
}
