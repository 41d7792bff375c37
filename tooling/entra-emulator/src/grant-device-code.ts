import { randomBytes, randomInt } from 'node:crypto'
import { type DelegatedScopes, GRAPH_RESOURCE, OIDC_SCOPES, parseDelegatedScopes, recordConsent } from './delegated-scopes'
import type { Directory } from './directory'
import { type EntraErrorAnswer, entraError } from './entra-errors'
import type { TokenAnswer } from './grant-context'
import { type UserGrantContext, userGrantClient, userGrantScopes } from './user-grant-context'
import { issueUserTokens, type MfaRequirements, type SignIn } from './user-tokens'

/** `grant_type` of the device code grant (RFC 8628). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** A device code as the control API shows it (never the device code itself). */
export interface DeviceCodeInfo {
  userCode: string
  clientId: string
  tenantId: string
  /** The `scope` the client asked for. */
  scope: string
  status: 'pending' | 'approved' | 'declined' | 'expired' | 'redeemed'
  /** Milliseconds since the epoch. */
  expiresAt: number
  /** Times (ms since the epoch) of each token request that presented this code. */
  polls: number[]
}

/** Control of pending device codes: play the user who enters the code (or does not). */
export interface DeviceCodeControl {
  /** The user signs in with this code and consents: the next poll gets tokens. Throws for an unknown code or user. */
  approve(userCode: string, username: string): void
  /** The user declines: the next poll answers `authorization_declined`. */
  deny(userCode: string): void
  /** The code expires now: the next poll answers `expired_token`. */
  expire(userCode: string): void
  /** The next `count` polls (default 1) answer `slow_down`. */
  slowDown(userCode: string, count?: number): void
  /** Times (ms since the epoch) of each poll that presented this code, oldest first. */
  polls(userCode: string): number[]
  /** Every device code issued, oldest first. */
  list(): DeviceCodeInfo[]
  /** The newest device code issued, if any. */
  latest(): DeviceCodeInfo | undefined
  /** Resolves with the next pending code (one already pending counts) or rejects after `timeoutMs` (default 5000). */
  waitForPending(options?: { timeoutMs?: number; clientId?: string }): Promise<DeviceCodeInfo>
}

interface Session extends DeviceCodeInfo {
  deviceCode: string
  scopes: DelegatedScopes
  /** Other resources the user consents to when approving (Entra's consent to several resources up front). */
  extraConsents: DelegatedScopes[]
  slowDowns: number
  signIn?: SignIn
}

/** Device codes issued by `/devicecode`, by device code and user code. */
export class DeviceCodeStore implements DeviceCodeControl {
  readonly #byDeviceCode = new Map<string, Session>()
  readonly #byUserCode = new Map<string, Session>()
  readonly #waiters = new Set<(session: Session) => void>()
  readonly #directory: Directory
  readonly #mfa: MfaRequirements

  constructor(directory: Directory, mfa: MfaRequirements) {
    this.#directory = directory
    this.#mfa = mfa
  }

  create(input: {
    clientId: string
    tenantId: string
    scope: string
    scopes: DelegatedScopes
    extraConsents?: DelegatedScopes[]
    lifetimeSeconds: number
    interval: number
  }): Session {
    let userCode = ''
    do {
      userCode = Array.from({ length: 9 }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[randomInt(32)]).join('')
    } while (this.#byUserCode.has(userCode))
    const session: Session = {
      deviceCode: `emu-dc.${randomBytes(32).toString('base64url')}`,
      userCode,
      clientId: input.clientId,
      tenantId: input.tenantId,
      scope: input.scope,
      scopes: input.scopes,
      extraConsents: input.extraConsents ?? [],
      status: 'pending',
      expiresAt: Date.now() + input.lifetimeSeconds * 1000,
      polls: [],
      slowDowns: 0,
    }
    this.#byDeviceCode.set(session.deviceCode, session)
    this.#byUserCode.set(userCode, session)
    for (const waiter of [...this.#waiters]) waiter(session)
    return session
  }

  byDeviceCode(deviceCode: string): Session | undefined {
    return this.#byDeviceCode.get(deviceCode)
  }

  #session(userCode: string): Session {
    const session = this.#byUserCode.get(userCode.toUpperCase())
    if (session === undefined) throw new Error(`no device code with user code ${userCode}`)
    return session
  }

  approve(userCode: string, username: string): void {
    const session = this.#session(userCode)
    const user = this.#directory.findUser(username)
    if (user === undefined) throw new Error(`no user ${username}`)
    if (user.tenantId.toLowerCase() !== session.tenantId.toLowerCase()) throw new Error(`user ${username} is not in tenant ${session.tenantId}`)
    recordConsent(user, session.scopes)
    for (const extra of session.extraConsents) recordConsent(user, extra)
    session.signIn = this.#mfa.signIn(user)
    session.status = 'approved'
  }

  deny(userCode: string): void {
    this.#session(userCode).status = 'declined'
  }

  expire(userCode: string): void {
    const session = this.#session(userCode)
    session.expiresAt = Date.now() - 1
    if (session.status === 'pending' || session.status === 'approved') session.status = 'expired'
  }

  slowDown(userCode: string, count = 1): void {
    this.#session(userCode).slowDowns += count
  }

  polls(userCode: string): number[] {
    return [...this.#session(userCode).polls]
  }

  list(): DeviceCodeInfo[] {
    return [...this.#byDeviceCode.values()].map(info)
  }

  latest(): DeviceCodeInfo | undefined {
    const sessions = [...this.#byDeviceCode.values()]
    const last = sessions[sessions.length - 1]
    return last === undefined ? undefined : info(last)
  }

  waitForPending(options: { timeoutMs?: number; clientId?: string } = {}): Promise<DeviceCodeInfo> {
    const wanted = (session: Session) => session.status === 'pending' && (options.clientId === undefined || session.clientId === options.clientId)
    const already = [...this.#byDeviceCode.values()].reverse().find(wanted)
    if (already !== undefined) return Promise.resolve(info(already))
    return new Promise((resolve, reject) => {
      const waiter = (session: Session) => {
        if (!wanted(session)) return
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve(info(session))
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`no pending device code within ${options.timeoutMs ?? 5000} ms`))
      }, options.timeoutMs ?? 5000)
      this.#waiters.add(waiter)
    })
  }
}

const info = (session: Session): DeviceCodeInfo => ({
  userCode: session.userCode,
  clientId: session.clientId,
  tenantId: session.tenantId,
  scope: session.scope,
  status: session.status,
  expiresAt: session.expiresAt,
  polls: [...session.polls],
})

/** Settings of the device code endpoint. */
export interface DeviceCodeSettings {
  store: DeviceCodeStore
  verificationUri: string
  lifetimeSeconds: number
  interval: number
}

/** A `scope` parameter split into the first resource's scopes (with the OIDC scopes) and each other resource's. */
function splitResources(scope: string | null): { first: string; others: string[] } {
  const byResource = new Map<string, string[]>()
  const oidc: string[] = []
  for (const entry of (scope ?? '').split(/\s+/).filter((item) => item !== '')) {
    if (OIDC_SCOPES.has(entry)) {
      oidc.push(entry)
      continue
    }
    const slash = entry.lastIndexOf('/')
    const resource = slash === -1 ? GRAPH_RESOURCE : entry.slice(0, slash).replace(/\/$/, '')
    byResource.set(resource, [...(byResource.get(resource) ?? []), entry])
  }
  const [first = [], ...others] = [...byResource.values()]
  return { first: [...first, ...oidc].join(' '), others: others.map((entries) => entries.join(' ')) }
}

/** `POST /{tenant}/oauth2/v2.0/devicecode`: `client_id` and `scope` in, device code, user code and message out. */
export function deviceAuthorization(
  context: UserGrantContext,
  settings: DeviceCodeSettings,
): { status: 200; body: Record<string, unknown> } | EntraErrorAnswer {
  const { form, correlationId } = context
  const clientId = form.get('client_id')
  if (clientId === null || clientId === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.", correlationId)
  }
  if (context.directory.findApp(context.tenantId, clientId) === undefined) {
    return entraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${context.tenantId}'.`,
      correlationId,
    )
  }
  // Like Entra, a device code sign-in may ask consent for several resources at once (MSAL's extra scopes to
  // consent, AzSessions' scope_auth): the user consents to all of them, the tokens are for the first one named.
  const split = splitResources(form.get('scope'))
  const scopes = userGrantScopes({ form: new URLSearchParams({ scope: split.first }), correlationId })
  if ('status' in scopes) return scopes
  const session = settings.store.create({
    clientId,
    tenantId: context.tenantId,
    scope: form.get('scope') ?? '',
    scopes,
    extraConsents: split.others.map((scope) => parseDelegatedScopes(scope)).filter((parsed): parsed is DelegatedScopes => typeof parsed === 'object'),
    lifetimeSeconds: settings.lifetimeSeconds,
    interval: settings.interval,
  })
  return {
    status: 200,
    body: {
      user_code: session.userCode,
      device_code: session.deviceCode,
      verification_uri: settings.verificationUri,
      expires_in: settings.lifetimeSeconds,
      interval: settings.interval,
      message: `To sign in, use a web browser to open the page ${settings.verificationUri} and enter the code ${session.userCode} to authenticate.`,
    },
  }
}

/**
 * `grant_type=urn:ietf:params:oauth:grant-type:device_code`: `authorization_pending` (AADSTS70016) until the
 * control API approves the code, then the tokens, once. `slow_down` on demand, `authorization_declined`
 * (AADSTS65004), `expired_token` (AADSTS70020, as Entra sends for an expired device code),
 * `bad_verification_code` (AADSTS70018) for a code it never issued to this client.
 */
export async function deviceCodeGrant(context: UserGrantContext, store: DeviceCodeStore): Promise<TokenAnswer | EntraErrorAnswer> {
  const { form, correlationId } = context
  const deviceCode = form.get('device_code')
  if (deviceCode === null || deviceCode === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'device_code'.", correlationId)
  }
  const client = await userGrantClient(context)
  if ('status' in client) return client
  const session = store.byDeviceCode(deviceCode)
  if (session === undefined || session.clientId.toLowerCase() !== client.app.clientId.toLowerCase() || session.tenantId !== context.tenantId) {
    return entraError(400, 'bad_verification_code', 70018, "The provided value for the input parameter 'device_code' is not valid.", correlationId)
  }
  session.polls.push(Date.now())
  if (session.status === 'redeemed') {
    return entraError(400, 'invalid_grant', 70000, "The provided value for the input parameter 'device_code' has already been redeemed.", correlationId)
  }
  if (session.status === 'expired' || (session.status !== 'declined' && session.expiresAt <= Date.now())) {
    session.status = 'expired'
    return entraError(
      400,
      'expired_token',
      70020,
      "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
      correlationId,
    )
  }
  if (session.status === 'declined') {
    return entraError(400, 'authorization_declined', 65004, 'The user declined the authorization request.', correlationId)
  }
  if (session.slowDowns > 0) {
    session.slowDowns -= 1
    return entraError(400, 'slow_down', 70016, 'The client is polling too fast: wait longer between token requests.', correlationId)
  }
  if (session.status === 'pending' || session.signIn === undefined) {
    return entraError(
      400,
      'authorization_pending',
      70016,
      'The provided request has not yet been authorized by the user. The user must input their code.',
      correlationId,
    )
  }
  session.status = 'redeemed'
  return issueUserTokens(context.users, {
    app: client.app,
    signIn: session.signIn,
    scopes: session.scopes,
    tenantId: context.tenantId,
    clientAuthentication: client.clientAuthentication,
    clientInfo: form.get('client_info') === '1',
  })
}
