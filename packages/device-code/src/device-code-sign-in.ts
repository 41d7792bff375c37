import {
  type AbortSignalLike,
  AzcredError,
  DEFAULT_HTTP_TIMEOUT_MS,
  type FetchLike,
  isTransient,
  requestTokenGrant,
  sendJsonRequest,
  type TokenRequest,
  TokenRequestError,
  type TokenResponse,
  USER_AGENT,
} from '@azcred/core'

/**
 * What the user needs to sign in: open `verificationUri` on any device and enter `userCode` before `expiresOn`.
 * @public
 */
export interface DeviceCodeInfo {
  /** The short code the user enters (not a secret: it is shown on screen). */
  userCode: string
  /**
   * The page where the user enters the code, such as `https://microsoft.com/devicelogin`: always `https:`
   * (plain `http:` only on a loopback host, a local emulator), printable ASCII, no user:password.
   */
  verificationUri: string
  /**
   * Entra ID's instruction for the user, with the page and the code (localised by Entra): at most 1000
   * characters, without control or format characters (no terminal escape sequences, line breaks or bidi
   * overrides). When Entra's text does not name this `verificationUri` and `userCode`, azcred's own English one.
   */
  message: string
  /** When the code stops working. */
  expiresOn: Date
}

/**
 * Shows the user how to sign in. Called once per sign-in, before the first poll; polling does not wait
 * for it. A callback that throws (or returns a promise that rejects) ends the sign-in with
 * `AZCRED_AUTHENTICATION_CANCELLED`.
 * @public
 */
export type DeviceCodePromptCallback = (info: DeviceCodeInfo) => void | Promise<void>

/** `grant_type` of the device code grant (RFC 8628 §3.4). */
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** Added to the polling interval on every `slow_down` answer, in milliseconds (RFC 8628 §3.5). */
export const SLOW_DOWN_INCREMENT_MS = 5_000

/** Polling interval when Entra names none, in milliseconds (RFC 8628 §3.2). */
const DEFAULT_INTERVAL_MS = 5_000

/** Polls that failed for a network error, a timeout or a 5xx/429 in a row before the sign-in fails. */
export const MAX_POLL_FAILURES = 5

/** Attempts of the device authorization request (nothing has been shown to the user yet). */
const DEVICE_CODE_REQUEST_ATTEMPTS = 3

/** What the sign-in needs from its credential. */
export interface DeviceCodeSignInConfig {
  credentialName: string
  authorityHost: string
  clientId: string
  prompt: DeviceCodePromptCallback
  /** Longest sign-in, in milliseconds; the code's own `expires_in` limits it further. */
  signInTimeoutMs: number | undefined
  /** Scopes the user is asked to consent to besides the requested ones (other resources). */
  extraScopesToConsent: readonly string[]
  fetch: FetchLike | undefined
  /** Per-request HTTP timeout, in milliseconds. */
  timeoutMs: number | undefined
  /** Waits `ms`; rejects with AZCRED_ABORTED when `signal` fires. For tests. */
  sleep?: (ms: number, signal: AbortSignalLike | undefined) => Promise<void>
}

const abortedError = (): AzcredError => new AzcredError('AZCRED_ABORTED', 'aborted by the caller (options.abortSignal)')

function sleep(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError())
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortedError())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort)
  })
}

/** Hosts where a plain-http verification page is accepted (a local emulator). */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i

/**
 * Server text as it may reach a terminal: letters, marks, numbers, punctuation, symbols and spaces of any
 * script (Entra localises the message), with every control and format character removed (ESC and C1
 * escape sequences, line breaks, bidi overrides, zero-width characters) and at most `max` characters.
 */
function displayText(value: unknown, max: number): string {
  if (typeof value !== 'string') return ''
  const text = value
    .slice(0, max * 2)
    .replace(/[^\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]/gu, '')
    .replace(/\p{Zs}+/gu, ' ')
    .trim()
  // Cut by code point: never half of a surrogate pair.
  return Array.from(text).slice(0, max).join('')
}

/** A number of seconds from a server field (a number or a numeric string), or undefined. */
function seconds(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) && number >= 0 ? number : undefined
}

const invalid = (field: string): AzcredError =>
  new AzcredError('AZCRED_RESPONSE_INVALID', `the Entra ID device code endpoint answered without a valid ${field}: check authorityHost`)

/** The device authorization answer, checked (RFC 8628 §3.2). The device code stays in this closure's caller. */
interface DeviceAuthorization {
  deviceCode: string
  info: DeviceCodeInfo
  intervalMs: number
  expiresAt: number
}

function readDeviceAuthorization(body: Record<string, unknown>, startedAt: number): DeviceAuthorization {
  const { device_code: deviceCode, user_code: userCode, verification_uri: uri } = body
  if (typeof deviceCode !== 'string' || !/^[!-~]{1,8192}$/.test(deviceCode)) throw invalid('device_code')
  if (typeof userCode !== 'string' || !/^[!-~]{1,64}$/.test(userCode)) throw invalid('user_code')
  let verificationUri: string | undefined
  try {
    const url = typeof uri === 'string' && uri.length <= 2048 ? new URL(uri) : undefined
    // https, or http on a loopback host only (a local emulator): a plain-http page elsewhere is where a
    // network attacker would send the user to type the code.
    const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && LOOPBACK.test(url.hostname))
    if (url !== undefined && secure && !url.username && !url.password) verificationUri = url.href
  } catch {}
  if (verificationUri === undefined || /[^!-~]/.test(verificationUri)) throw invalid('verification_uri')
  const expiresIn = seconds(body.expires_in)
  // Entra gives 15 minutes; more than a day is not believed.
  if (expiresIn === undefined || expiresIn < 1 || expiresIn > 86_400) throw invalid('expires_in')
  const interval = seconds(body.interval)
  // At least 50 ms (a fast test server), at most 60 s between polls.
  const intervalMs = interval === undefined ? DEFAULT_INTERVAL_MS : Math.min(60_000, Math.max(50, Math.round(interval * 1000)))
  const expiresAt = startedAt + expiresIn * 1000
  // Entra's (localised) message, only when it names this page and this code; else one that does.
  const entraMessage = displayText(body.message, 1000)
  const message =
    entraMessage !== '' && entraMessage.includes(userCode) && (entraMessage.includes(verificationUri) || entraMessage.includes(`${uri}`))
      ? entraMessage
      : `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`
  return { deviceCode, intervalMs, expiresAt, info: { userCode, verificationUri, message, expiresOn: new Date(expiresAt) } }
}

/** `AZCRED_TIMEOUT` for the sign-in's own time limit. */
const signInTimedOut = (config: DeviceCodeSignInConfig): AzcredError =>
  new AzcredError(
    'AZCRED_TIMEOUT',
    `${config.credentialName}: the user did not sign in within signInTimeoutMs (${config.signInTimeoutMs} ms): sign in sooner or raise signInTimeoutMs`,
  )

/** The HTTP timeout of one request: the configured one, never past `deadline` (at least 1 ms). */
const requestTimeout = (config: DeviceCodeSignInConfig, deadline: number): number =>
  Math.max(1, Math.min(config.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS, deadline - Date.now()))

/**
 * `POST /{tenant}/oauth2/v2.0/devicecode`, retried (bounded) for a network error, a timeout, 429 or 5xx;
 * every attempt and wait ends by `limitDeadline` (signInTimeoutMs), then `AZCRED_TIMEOUT`.
 */
async function requestDeviceCode(
  config: DeviceCodeSignInConfig,
  request: TokenRequest,
  wait: typeof sleep,
  limitDeadline: number,
): Promise<DeviceAuthorization> {
  const scopes = [...request.scopes, ...config.extraScopesToConsent.filter((scope) => !request.scopes.includes(scope))]
  for (let attempt = 1; ; attempt += 1) {
    const startedAt = Date.now()
    if (startedAt >= limitDeadline) throw signInTimedOut(config)
    try {
      const { body } = await sendJsonRequest(
        {
          url: `${config.authorityHost}/${request.tenantId}/oauth2/v2.0/devicecode`,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': USER_AGENT },
          body: `${new URLSearchParams({ client_id: config.clientId, scope: scopes.join(' ') })}`,
          endpointName: 'the Entra ID device code endpoint',
        },
        { fetch: config.fetch, timeoutMs: requestTimeout(config, limitDeadline), abortSignal: request.abortSignal },
      )
      return readDeviceAuthorization(body, startedAt)
    } catch (error) {
      if (request.abortSignal?.aborted) throw error
      if (Date.now() >= limitDeadline) throw signInTimedOut(config)
      if (attempt >= DEVICE_CODE_REQUEST_ATTEMPTS || !isTransient(error)) throw error
      await wait(Math.min(attempt * 1_000, Math.max(0, limitDeadline - Date.now())), request.abortSignal)
    }
  }
}

/** The final error for a refusal that ends the polling, with what the user can do; undefined to keep polling. */
function pollRefusal(error: TokenRequestError, credentialName: string): AzcredError | undefined {
  const code = error.aadstsCode === undefined ? '' : ` (${error.aadstsCode})`
  switch (error.error) {
    case 'authorization_declined':
      return new AzcredError(
        'AZCRED_AUTHENTICATION_CANCELLED',
        `${credentialName}: the user declined the sign-in${code}: sign in again and accept on the verification page to get a token`,
      )
    case 'expired_token':
      return new TokenRequestError(
        `${credentialName}: the device code expired before the user signed in${code}: call getToken or authenticate again for a new code, and enter it within its lifetime`,
        error,
      )
    case 'bad_verification_code':
      return new TokenRequestError(
        `${credentialName}: Entra ID did not recognise the device code${code}: check that tenantId, clientId and authorityHost are those of the sign-in, then sign in again`,
        error,
      )
    default:
      return undefined
  }
}

/**
 * Runs one device code sign-in (RFC 8628): asks Entra ID for a code, shows it with the prompt, then polls
 * the token endpoint at the server's `interval` (plus 5 s for every `slow_down`) until the user signs in,
 * declines, the code expires, the time limit passes or `request.abortSignal` fires (the request in flight
 * is aborted and no further poll is sent). A poll that fails for a network error, a timeout, 429 or 5xx is
 * sent again at the next interval (at most {@link MAX_POLL_FAILURES} in a row) without a new code. The
 * device code never leaves this function except in the form it posts.
 */
export async function deviceCodeSignIn(config: DeviceCodeSignInConfig, request: TokenRequest): Promise<TokenResponse> {
  const wait = config.sleep ?? sleep
  const signal = request.abortSignal
  const startedAt = Date.now()
  const limit = config.signInTimeoutMs
  const limitDeadline = limit === undefined ? Number.POSITIVE_INFINITY : startedAt + limit
  const authorization = await requestDeviceCode(config, request, wait, limitDeadline)
  const { deviceCode, info } = authorization
  const deadline = Math.min(authorization.expiresAt, limitDeadline)
  let promptFailed = false
  const onPromptError = (cause: unknown): void => {
    promptFailed = true
    promptError = cause
  }
  let promptError: unknown
  try {
    const shown = config.prompt(info)
    if (typeof (shown as Promise<void> | undefined)?.then === 'function') (shown as Promise<void>).then(undefined, onPromptError)
  } catch (error) {
    onPromptError(error)
  }
  const cancelledByPrompt = (): AzcredError =>
    new AzcredError('AZCRED_AUTHENTICATION_CANCELLED', `${config.credentialName}: userPromptCallback threw: the sign-in was stopped`, {
      cause: promptError,
    })
  let intervalMs = authorization.intervalMs
  let failures = 0
  // Bounded by the deadline, and in count: every round waits at least 50 ms.
  for (let poll = 1; poll <= 100_000; poll += 1) {
    if (promptFailed) throw cancelledByPrompt()
    const remaining = deadline - Date.now()
    if (remaining <= 0) break
    await wait(Math.min(intervalMs, remaining), signal)
    if (promptFailed) throw cancelledByPrompt()
    if (Date.now() >= deadline) break
    try {
      return await requestTokenGrant({
        authorityHost: config.authorityHost,
        clientId: config.clientId,
        request,
        grant: { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_info: '1' },
        fetch: config.fetch,
        // A poll never runs past the deadline (a black-holed network would otherwise hold it for the HTTP timeout).
        timeoutMs: requestTimeout(config, deadline),
      })
    } catch (error) {
      if (signal?.aborted) throw abortedError()
      if (error instanceof TokenRequestError && error.error === 'authorization_pending') {
        failures = 0
        continue
      }
      if (error instanceof TokenRequestError && error.error === 'slow_down') {
        failures = 0
        intervalMs += SLOW_DOWN_INCREMENT_MS
        continue
      }
      const refusal = error instanceof TokenRequestError ? pollRefusal(error, config.credentialName) : undefined
      if (refusal !== undefined) throw refusal
      // A poll cut short by the deadline ends the sign-in with the time limit's error.
      if (isTransient(error) && Date.now() >= deadline) break
      // A lost poll does not lose the sign-in: the same device code is presented at the next interval.
      if (isTransient(error) && ++failures < MAX_POLL_FAILURES) {
        const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs
        if (retryAfterMs !== undefined && retryAfterMs > intervalMs) await wait(Math.min(retryAfterMs, Math.max(0, deadline - Date.now())), signal)
        continue
      }
      throw error
    }
  }
  if (deadline < authorization.expiresAt) throw signInTimedOut(config)
  throw new AzcredError(
    'AZCRED_TIMEOUT',
    `${config.credentialName}: the device code expired before the user signed in: call getToken or authenticate again for a new code, and enter it within its lifetime`,
  )
}
