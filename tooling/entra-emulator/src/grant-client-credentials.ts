import { type EntraErrorAnswer, entraError } from './entra-errors'
import type { GrantContext, TokenAnswer } from './grant-context'

/** Splits `{resource}/.default` into its resource, or returns undefined for anything else. */
export function resourceOfDefaultScope(scope: string): string | undefined {
  const scopes = scope
    .trim()
    .split(/\s+/)
    .filter((entry) => entry !== '' && !['openid', 'profile', 'offline_access'].includes(entry))
  if (scopes.length !== 1 || !scopes[0]?.endsWith('/.default')) return undefined
  return scopes[0].slice(0, -'/.default'.length)
}

/** `grant_type=client_credentials` with a client secret (form field or HTTP Basic) or a client assertion. */
export async function clientCredentialsGrant(context: GrantContext): Promise<TokenAnswer | EntraErrorAnswer> {
  const { form, correlationId } = context
  const client = await context.authenticateClient()
  if ('status' in client) return client
  const scope = form.get('scope')
  if (scope === null || scope.trim() === '') {
    return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.", correlationId)
  }
  const resource = resourceOfDefaultScope(scope)
  if (resource === undefined) {
    return entraError(
      400,
      'invalid_scope',
      70011,
      `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. The client credentials flow takes exactly one scope of the form <resource>/.default.`,
      correlationId,
    )
  }
  const roles = client.roles.get(resource) ?? client.roles.get('*') ?? []
  return context.issueAccessToken(
    {
      aud: resource,
      azp: client.clientId,
      appid: client.clientId,
      oid: client.servicePrincipalId,
      sub: client.servicePrincipalId,
      idtyp: 'app',
      ...(roles.length > 0 ? { roles } : {}),
    },
    client,
  )
}
