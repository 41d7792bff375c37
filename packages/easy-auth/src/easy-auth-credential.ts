import { AzcredError, ENV_CLIENT_ID, readEnv } from '@azcred/core'
import { OnBehalfOfCredential, type OnBehalfOfCredentialOptions } from '@azcred/on-behalf-of'
import type { EasyAuthRequest } from './easy-auth-headers'
import type { EasyAuthPrincipal } from './easy-auth-principal'
import { type EasyAuthTrustOptions, ENV_WEBSITE_AUTH_CLIENT_ID, readEasyAuthSession } from './easy-auth-session'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * Options of {@link easyAuthCredential}: the app's own client authentication for the on-behalf-of exchange
 * (exactly one of `clientSecret`, `certificate`, `getAssertion` — preferred: a managed identity's or another
 * federated token, so the app holds no secret — or `clientAuthentication`), and every other
 * `OnBehalfOfCredential` option. The user assertion comes from the request.
 * @public
 */
export type EasyAuthCredentialOptions = DistributiveOmit<OnBehalfOfCredentialOptions, 'userAssertionToken' | 'tenantId' | 'clientId'> &
  EasyAuthTrustOptions & {
    /** The app registration's client id. Default `WEBSITE_AUTH_CLIENT_ID` (set by App Service authentication), then `AZURE_CLIENT_ID`. */
    clientId?: string
    /** The tenant of the on-behalf-of exchange. Default the access token's `tid` (the user's tenant). */
    tenantId?: string
    /**
     * Audiences the incoming access token may have besides `clientId` and `api://<clientId>` (a custom App ID URI
     * such as `https://contoso.com/orders`). A token for another audience (Microsoft Graph, when the login asked
     * for no scope of your API) is refused before any request.
     */
    audiences?: readonly string[]
  }

/**
 * The signed-in user's credential: an `OnBehalfOfCredential`, with the user's {@link EasyAuthPrincipal}.
 * @public
 */
export type EasyAuthCredential = OnBehalfOfCredential & { readonly principal: EasyAuthPrincipal }

const GRAPH_AUDIENCES = new Set(['00000003-0000-0000-c000-000000000000', 'https://graph.microsoft.com'])

/**
 * A credential for the user App Service authentication ("Easy Auth") signed in, from one incoming request:
 * reads `X-MS-TOKEN-AAD-ACCESS-TOKEN` (with `-EXPIRES-ON`) and `X-MS-CLIENT-PRINCIPAL*` in any letter case
 * from a Node `IncomingMessage`, an Express / Fastify request, a Fetch `Request` or `Headers` (Next.js route
 * handlers, Hono's `c.req.raw`), Hono's `c.req`, or a plain header record, and returns an
 * `OnBehalfOfCredential` that exchanges the user's token for tokens to other APIs (Resource Manager,
 * Storage, Graph) as that user, with `principal` (id, name, roles, claims) for the app to show.
 * Create one per request: it is cheap, and tokens are cached per user across credentials (bounded).
 *
 * The headers are trusted only behind App Service authentication (`WEBSITE_AUTH_ENABLED=True`) or with
 * `trustHeaders: true`: anyone can send them to a server reached directly.
 *
 * @throws AzcredError AZCRED_CONFIG_INVALID when the headers are not trusted, the user is signed in but the
 *   request has no access token (token store off), the token is for another audience (no login scope for your
 *   API), or an option is wrong; AZCRED_RESPONSE_INVALID when a header is malformed;
 *   `EasyAuthInteractionRequiredError` (AZCRED_INTERACTION_REQUIRED) when nobody is signed in (`action: 'login'`)
 *   or the Easy Auth token expired (`action: 'refresh'`: the browser calls `/.auth/refresh`).
 * @example
 * app.get('/vms', async (request, response) => {
 *   const credential = easyAuthCredential(request, { getAssertion: () => managedIdentityAssertion() })
 *   const client = new ComputeManagementClient(credential, subscriptionId)
 *   response.json({ user: credential.principal.name, vms: await Array.fromAsync(client.virtualMachines.listAll()) })
 * })
 * @public
 */
export function easyAuthCredential(request: EasyAuthRequest, options: EasyAuthCredentialOptions): EasyAuthCredential {
  if (typeof options !== 'object' || options === null) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'options are required: the app’s client authentication (clientSecret, certificate or getAssertion)')
  }
  const { trustHeaders, clientId: givenClientId, tenantId: givenTenantId, audiences, ...oboOptions } = options
  const session = readEasyAuthSession(request, { trustHeaders })
  const clientId = givenClientId ?? readEnv(ENV_WEBSITE_AUTH_CLIENT_ID) ?? readEnv(ENV_CLIENT_ID)
  if (typeof clientId !== 'string' || clientId.trim() === '') {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `clientId is missing: pass options.clientId or set ${ENV_WEBSITE_AUTH_CLIENT_ID} (App Service sets it) or ${ENV_CLIENT_ID}`,
    )
  }
  if (audiences !== undefined && (!Array.isArray(audiences) || audiences.some((audience) => typeof audience !== 'string'))) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'audiences must be an array of strings')
  }
  const { aud, tid } = session.tokenClaims
  const accepted = [clientId, `api://${clientId}`, ...(audiences ?? [])]
  if (!(typeof aud === 'string' && accepted.includes(aud))) {
    const had = typeof aud === 'string' && aud.length <= 256 ? `"${aud.replace(/[^\x20-\x7e]/g, '?')}"` : 'no usable aud'
    const graph = typeof aud === 'string' && GRAPH_AUDIENCES.has(aud.toLowerCase()) ? ' (Microsoft Graph: the login asked for no scope of your API)' : ''
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `the Easy Auth access token is for ${had}${graph}, not for this app (${accepted.map((value) => `"${value}"`).join(', ')}): add a login scope for your API to App Service authentication (login parameters "scope=openid profile email offline_access api://<client id>/user_impersonation"), or list a custom App ID URI in options.audiences`,
    )
  }
  const tenantId = givenTenantId ?? (typeof tid === 'string' ? tid : undefined)
  if (tenantId === undefined) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'tenantId is missing: the access token has no tid claim; pass options.tenantId')
  }
  const credential = new OnBehalfOfCredential({ ...oboOptions, tenantId, clientId, userAssertionToken: session.accessToken } as OnBehalfOfCredentialOptions)
  Object.defineProperty(credential, 'principal', { value: session.principal, enumerable: true })
  return credential as EasyAuthCredential
}
