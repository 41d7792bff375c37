import type { EmulatedApp } from './directory'
import type { EntraErrorAnswer } from './entra-errors'

/** A successful token answer body. */
export interface TokenAnswer {
  status: 200
  body: Record<string, unknown>
}

/** What a grant handler gets from the server. */
export interface GrantContext {
  readonly tenantId: string
  readonly form: URLSearchParams
  readonly correlationId: string
  /** Checks client_id plus client_secret (form or Basic) or client_assertion against the directory. */
  authenticateClient(): Promise<EmulatedApp | EntraErrorAnswer>
  /** Signs an access token with the standard claims plus these, and builds the answer. */
  issueAccessToken(claims: Record<string, unknown>, app?: EmulatedApp): Promise<TokenAnswer>
}
