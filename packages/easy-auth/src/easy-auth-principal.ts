import { AzcredError } from '@azcred/core'
import { EASY_AUTH_HEADERS, type HeaderReader } from './easy-auth-headers'

/**
 * One claim of the signed-in user, as App Service passes it (`typ` is often a URI such as
 * `http://schemas.microsoft.com/identity/claims/objectidentifier`, or a short name such as `roles`).
 * @public
 */
export interface EasyAuthClaim {
  readonly typ: string
  readonly val: string
}

/**
 * The signed-in user as App Service authentication describes them: for the app to show and to authorize on.
 * Holds no token.
 * @public
 */
export interface EasyAuthPrincipal {
  /** The user's id (`X-MS-CLIENT-PRINCIPAL-ID`; Microsoft Entra: the object id), else the object id claim. */
  readonly id: string | undefined
  /** The user's name (`X-MS-CLIENT-PRINCIPAL-NAME`), else the claim the principal's `name_typ` names. */
  readonly name: string | undefined
  /** The identity provider (`X-MS-CLIENT-PRINCIPAL-IDP`, else the principal's `auth_typ`), such as `aad`. */
  readonly identityProvider: string | undefined
  /** The app roles: the claims of the principal's `role_typ` (default `roles`). */
  readonly roles: readonly string[]
  /** Every claim of `X-MS-CLIENT-PRINCIPAL`, in order. */
  readonly claims: readonly EasyAuthClaim[]
}

/**
 * Most claims read from `X-MS-CLIENT-PRINCIPAL`; a principal with more is refused (AZCRED_RESPONSE_INVALID). 1024.
 * @public
 */
export const MAX_PRINCIPAL_CLAIMS = 1024
const MAX_CLAIM_TYPE_LENGTH = 1024
const MAX_CLAIM_VALUE_LENGTH = 16_384
const MAX_NAME_LENGTH = 1024

const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid']
const DEFAULT_ROLE_TYPE = 'roles'
const DEFAULT_NAME_TYPE = 'name'
// Control characters (C0, DEL, C1) are never part of a name or id.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

function invalid(header: string, why: string): AzcredError {
  return new AzcredError('AZCRED_RESPONSE_INVALID', `${header} ${why}: refused (behind App Service authentication the platform sets it)`)
}

function plainText(header: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (value.length > MAX_NAME_LENGTH || CONTROL.test(value))
    throw invalid(header, `is not a name of at most ${MAX_NAME_LENGTH} characters without control characters`)
  return value
}

function decodeBase64Json(text: string): unknown {
  // Standard base64 as the platform sends it (base64url tolerated); decoded as UTF-8.
  const binary = atob(text.trim().replace(/-/g, '+').replace(/_/g, '/'))
  const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0))
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
}

function readClaims(header: string, value: unknown): EasyAuthClaim[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw invalid(header, 'has claims that are not a list')
  if (value.length > MAX_PRINCIPAL_CLAIMS) throw invalid(header, `has more than ${MAX_PRINCIPAL_CLAIMS} claims`)
  const claims: EasyAuthClaim[] = []
  for (const entry of value as unknown[]) {
    const { typ, val } = (entry ?? {}) as { typ?: unknown; val?: unknown }
    if (typeof typ !== 'string' || typeof val !== 'string' || typ.length > MAX_CLAIM_TYPE_LENGTH || val.length > MAX_CLAIM_VALUE_LENGTH) {
      throw invalid(header, `has a claim that is not { typ, val } strings of at most ${MAX_CLAIM_TYPE_LENGTH} / ${MAX_CLAIM_VALUE_LENGTH} characters`)
    }
    claims.push(Object.freeze({ typ, val }))
  }
  return claims
}

function optionalType(header: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string' || value.length > MAX_CLAIM_TYPE_LENGTH) throw invalid(header, 'has a name_typ or role_typ that is not a short string')
  return value
}

/**
 * Reads the user from the `X-MS-CLIENT-PRINCIPAL*` headers, or undefined when none is present (an anonymous request).
 * @throws AzcredError AZCRED_RESPONSE_INVALID when a header is malformed, too long, or has too many claims.
 */
export function readPrincipal(read: HeaderReader): EasyAuthPrincipal | undefined {
  const encoded = read(EASY_AUTH_HEADERS.principal)
  const headerId = plainText(EASY_AUTH_HEADERS.principalId, read(EASY_AUTH_HEADERS.principalId))
  const headerName = plainText(EASY_AUTH_HEADERS.principalName, read(EASY_AUTH_HEADERS.principalName))
  const headerIdp = plainText(EASY_AUTH_HEADERS.principalIdp, read(EASY_AUTH_HEADERS.principalIdp))
  if (encoded === undefined && headerId === undefined && headerName === undefined) return undefined
  let claims: EasyAuthClaim[] = []
  let nameType = DEFAULT_NAME_TYPE
  let roleType = DEFAULT_ROLE_TYPE
  let authType: string | undefined
  if (encoded !== undefined) {
    let json: unknown
    try {
      json = decodeBase64Json(encoded)
    } catch {
      throw invalid(EASY_AUTH_HEADERS.principal, 'is not base64 of UTF-8 JSON')
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(EASY_AUTH_HEADERS.principal, 'is not a JSON object')
    const body = json as Record<string, unknown>
    claims = readClaims(EASY_AUTH_HEADERS.principal, body.claims)
    nameType = optionalType(EASY_AUTH_HEADERS.principal, body.name_typ, DEFAULT_NAME_TYPE)
    roleType = optionalType(EASY_AUTH_HEADERS.principal, body.role_typ, DEFAULT_ROLE_TYPE)
    authType = typeof body.auth_typ === 'string' ? plainText(EASY_AUTH_HEADERS.principal, body.auth_typ) : undefined
  }
  const claimValue = (types: readonly string[]): string | undefined => claims.find((claim) => types.includes(claim.typ))?.val
  const claimId = claimValue(OBJECT_ID_CLAIMS)
  if (headerId !== undefined && claimId !== undefined && headerId !== claimId) {
    throw invalid(EASY_AUTH_HEADERS.principalId, `names another user than the object id claim of ${EASY_AUTH_HEADERS.principal}`)
  }
  return Object.freeze({
    id: headerId ?? claimId,
    name: headerName ?? claimValue([nameType]),
    identityProvider: headerIdp ?? authType,
    roles: Object.freeze(claims.filter((claim) => claim.typ === roleType).map((claim) => claim.val)),
    claims: Object.freeze(claims),
  })
}
