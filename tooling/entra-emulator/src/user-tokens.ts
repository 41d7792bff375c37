import { createHash, randomBytes } from 'node:crypto'
import { type DelegatedScopes, grantedPermissions } from './delegated-scopes'
import type { EmulatedApp, EmulatedUser } from './directory'
import type { TokenAnswer } from './grant-context'
import type { TokenSigner } from './token-signer'

/** One interactive sign-in: who, when, and the MFA generation it satisfied. */
export interface SignIn {
  readonly user: EmulatedUser
  /** Seconds since the epoch (the `auth_time`). */
  readonly authTime: number
  /** {@link MfaRequirements.generation} at sign-in: requirements added later are not satisfied. */
  readonly mfaGeneration: number
}

/** Conditional Access "require MFA" rules added through the control API, per user and resource. */
export class MfaRequirements {
  #generation = 0
  readonly #rules = new Map<string, number>()

  /** Increases with each rule; a sign-in at or after a rule's generation satisfies it. */
  get generation(): number {
    return this.#generation
  }

  require(username: string, resource: string): void {
    this.#generation += 1
    this.#rules.set(`${username.toLowerCase()}|${resource.replace(/\/$/, '')}`, this.#generation)
  }

  /** True when a rule for this user and resource is newer than the sign-in. */
  unsatisfied(signIn: SignIn, resource: string): boolean {
    const rule = this.#rules.get(`${signIn.user.username.toLowerCase()}|${resource}`)
    return rule !== undefined && signIn.mfaGeneration < rule
  }

  /** True when the sign-in satisfied a rule of its user (its tokens carry `amr` `mfa`). */
  performed(signIn: SignIn): boolean {
    const prefix = `${signIn.user.username.toLowerCase()}|`
    for (const [key, generation] of this.#rules) if (key.startsWith(prefix) && generation <= signIn.mfaGeneration) return true
    return false
  }

  signIn(user: EmulatedUser): SignIn {
    return { user, authTime: Math.floor(Date.now() / 1000), mfaGeneration: this.#generation }
  }
}

/** What the emulator remembers of a refresh token it issued. */
export interface RefreshTokenRecord {
  readonly signIn: SignIn
  readonly clientId: string
  readonly tenantId: string
  /** Milliseconds since the epoch. */
  readonly expiresAt: number
  state: 'valid' | 'rotated' | 'revoked' | 'expired'
}

/** Refresh tokens by value, with rotation, revocation and expiry. */
export class RefreshTokenStore {
  /** When false, redeeming a refresh token makes it invalid (only the newest one works). Default true, as Entra. */
  oldTokensStayValid: boolean
  readonly #records = new Map<string, RefreshTokenRecord>()
  readonly #lifetimeMs: number

  constructor(lifetimeSeconds: number, oldTokensStayValid: boolean) {
    this.#lifetimeMs = lifetimeSeconds * 1000
    this.oldTokensStayValid = oldTokensStayValid
  }

  issue(signIn: SignIn, clientId: string, tenantId: string): string {
    const token = `emu-rt.${randomBytes(32).toString('base64url')}`
    this.#records.set(token, { signIn, clientId, tenantId, expiresAt: Date.now() + this.#lifetimeMs, state: 'valid' })
    return token
  }

  find(token: string): RefreshTokenRecord | undefined {
    const record = this.#records.get(token)
    if (record?.state === 'valid' && record.expiresAt <= Date.now()) record.state = 'expired'
    return record
  }

  /** After a redemption: the old token stays valid or not, per {@link oldTokensStayValid}. */
  redeemed(token: string): void {
    const record = this.#records.get(token)
    if (record !== undefined && !this.oldTokensStayValid) record.state = 'rotated'
  }

  /** Marks every valid refresh token of the user with `state` (revoked: AADSTS50173; expired: AADSTS700082). */
  invalidate(username: string, state: 'revoked' | 'expired'): number {
    let count = 0
    for (const record of this.#records.values()) {
      if (record.signIn.user.username.toLowerCase() === username.toLowerCase() && record.state === 'valid') {
        record.state = state
        count += 1
      }
    }
    return count
  }
}

/** What the user-token issuer needs from the server. */
export interface UserTokenIssuerDeps {
  signer: TokenSigner
  /** `iss` of v2.0 tokens for a tenant. */
  v2Issuer(tenantId: string): string
  /** `iss` of v1.0 tokens for a tenant. */
  v1Issuer(tenantId: string): string
  isV1Resource(resource: string): boolean
  lifetimeSeconds: number
  refreshInSeconds?: number
  refreshTokens: RefreshTokenStore
  mfa: MfaRequirements
}

/** What one delegated token answer is made of. */
export interface UserTokenRequest {
  app: EmulatedApp
  signIn: SignIn
  scopes: DelegatedScopes
  tenantId: string
  /** `0` public client, `1` client secret, `2` certificate or assertion (`azpacr` / `appidacr`). */
  clientAuthentication: '0' | '1' | '2'
  /** Echoed in the id token. */
  nonce?: string
  /** Send `client_info` (the request had `client_info=1`). */
  clientInfo: boolean
}

/** A pairwise `sub`: stable per user and app. */
export function pairwiseSubject(user: EmulatedUser, clientId: string): string {
  return createHash('sha256').update(`${user.oid}|${clientId.toLowerCase()}`).digest('base64url').slice(0, 43)
}

/** The claims of a delegated access token for `resource` (before iss/iat/exp). */
export function delegatedAccessTokenClaims(
  deps: UserTokenIssuerDeps,
  input: {
    app: Pick<EmulatedApp, 'clientId'>
    user: EmulatedUser
    resource: string
    scp: string[]
    tenantId: string
    clientAuthentication: string
    mfa: boolean
  },
): Record<string, unknown> {
  const { user, app } = input
  const common = {
    aud: input.resource,
    tid: user.tenantId,
    oid: user.oid,
    sub: pairwiseSubject(user, app.clientId),
    scp: input.scp.join(' '),
    name: user.name,
    amr: input.mfa ? ['pwd', 'mfa'] : ['pwd'],
    idtyp: 'user',
  }
  if (deps.isV1Resource(input.resource)) {
    return {
      iss: deps.v1Issuer(user.tenantId),
      idp: deps.v1Issuer(user.tenantId),
      ver: '1.0',
      ...common,
      appid: app.clientId,
      appidacr: input.clientAuthentication,
      upn: user.username,
      unique_name: user.username,
    }
  }
  return { iss: deps.v2Issuer(user.tenantId), ver: '2.0', ...common, azp: app.clientId, azpacr: input.clientAuthentication, preferred_username: user.username }
}

/**
 * Builds a delegated token answer: `access_token` (with `scp`, `oid`, `tid`, `aud` of the resource),
 * `scope`, `id_token` only with `openid`, `refresh_token` only with `offline_access`, `client_info` on request.
 */
export async function issueUserTokens(deps: UserTokenIssuerDeps, request: UserTokenRequest): Promise<TokenAnswer> {
  const { app, signIn, scopes } = request
  const user = signIn.user
  const mfa = deps.mfa.performed(signIn)
  const claims = delegatedAccessTokenClaims(deps, {
    app,
    user,
    resource: scopes.resource,
    scp: grantedPermissions(user, scopes),
    tenantId: request.tenantId,
    clientAuthentication: request.clientAuthentication,
    mfa,
  })
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: scopes.requested.join(' '),
    expires_in: deps.lifetimeSeconds,
    ext_expires_in: deps.lifetimeSeconds,
    access_token: await deps.signer.sign(claims, deps.lifetimeSeconds),
  }
  const refreshIn = app.refreshInSeconds ?? deps.refreshInSeconds
  if (refreshIn !== undefined) body.refresh_in = refreshIn
  if (scopes.oidc.includes('offline_access')) body.refresh_token = deps.refreshTokens.issue(signIn, app.clientId, request.tenantId)
  if (scopes.oidc.includes('openid')) {
    body.id_token = await deps.signer.sign(
      {
        iss: deps.v2Issuer(user.tenantId),
        aud: app.clientId,
        tid: user.tenantId,
        oid: user.oid,
        sub: pairwiseSubject(user, app.clientId),
        preferred_username: user.username,
        name: user.name,
        auth_time: signIn.authTime,
        ver: '2.0',
        ...(request.nonce !== undefined && request.nonce !== '' ? { nonce: request.nonce } : {}),
      },
      deps.lifetimeSeconds,
    )
  }
  if (request.clientInfo) body.client_info = Buffer.from(JSON.stringify({ uid: user.oid, utid: user.tenantId })).toString('base64url')
  return { status: 200, body }
}
