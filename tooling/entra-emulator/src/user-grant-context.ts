import { type DelegatedScopes, parseDelegatedScopes } from './delegated-scopes'
import type { Directory, EmulatedApp } from './directory'
import { type EntraErrorAnswer, entraError } from './entra-errors'
import type { GrantContext } from './grant-context'
import type { UserTokenIssuerDeps } from './user-tokens'

/** The client of a user grant and how it proved itself (`azpacr`: 0 none, 1 secret, 2 certificate/assertion). */
export interface UserGrantClient {
  app: EmulatedApp
  clientAuthentication: '0' | '1' | '2'
}

/** What the user grants (device code, authorization code, refresh token, on-behalf-of) get from the server. */
export interface UserGrantContext extends GrantContext {
  readonly directory: Directory
  readonly users: UserTokenIssuerDeps
  /** The request carried `Authorization: Basic` (client id and secret). */
  readonly hasBasicAuthorization: boolean
}

/**
 * The client of a user grant: a public client app needs only `client_id` (a secret or assertion it sends
 * anyway is checked); a confidential one authenticates as in the client credentials grant.
 */
export async function userGrantClient(context: UserGrantContext): Promise<UserGrantClient | EntraErrorAnswer> {
  const { form } = context
  const clientId = form.get('client_id')
  const presentsCredential = form.has('client_secret') || form.has('client_assertion') || context.hasBasicAuthorization
  if (!presentsCredential && clientId !== null && clientId !== '') {
    const app = context.directory.findApp(context.tenantId, clientId)
    if (app?.publicClient === true) return { app, clientAuthentication: '0' }
  }
  const app = await context.authenticateClient()
  if ('status' in app) return app
  return { app, clientAuthentication: form.has('client_assertion') ? '2' : '1' }
}

/** Parses `scope` for a user grant, answering Entra's errors for a missing scope and for several resources. */
export function userGrantScopes(context: Pick<GrantContext, 'form' | 'correlationId'>): DelegatedScopes | EntraErrorAnswer {
  const parsed = parseDelegatedScopes(context.form.get('scope'))
  if (parsed === 'empty') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.", context.correlationId)
  }
  if (parsed === 'multiple') {
    return entraError(
      400,
      'invalid_scope',
      28000,
      'Provided value for the input parameter scope is not valid because it contains more than one resource. Scope is not valid.',
      context.correlationId,
    )
  }
  return parsed
}

/** `invalid_grant` / `consent_required` (AADSTS65001) for a resource the user has not consented to. */
export function consentRequired(clientId: string, resource: string, correlationId: string): EntraErrorAnswer {
  return entraError(
    400,
    'invalid_grant',
    65001,
    `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource (${resource}).`,
    correlationId,
    { suberror: 'consent_required' },
  )
}

/** `interaction_required` (AADSTS50076) with a `claims` challenge, for a resource behind an MFA rule. */
export function mfaRequired(resource: string, correlationId: string): EntraErrorAnswer {
  return entraError(
    400,
    'interaction_required',
    50076,
    `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resource}'.`,
    correlationId,
    { suberror: 'basic_action', claims: JSON.stringify({ access_token: { capolids: { essential: true, values: ['00000000-0000-0000-0000-00000000a11f'] } } }) },
  )
}
