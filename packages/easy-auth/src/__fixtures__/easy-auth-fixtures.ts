// Test helpers: unsigned JWT-shaped tokens and the headers App Service authentication would set.

export const USER_OID = '11111111-2222-3333-4444-555555555555'
export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47'
export const CLIENT_ID = '0d9b1b4f-7c1c-4e8e-9d2a-4a1f2b3c4d5e'

function base64Url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** A JWT-shaped token (not signed: Easy Auth validated it before the app sees it). */
export function userToken(claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const payload = { aud: `api://${CLIENT_ID}`, tid: TENANT_ID, oid: USER_OID, scp: 'user_impersonation', exp: now + 3600, ...claims }
  return `${base64Url({ alg: 'RS256', typ: 'JWT' })}.${base64Url(payload)}.planted-signature-${'s'.repeat(20)}`
}

export function principalHeader(body: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(body))
  return btoa(String.fromCharCode(...bytes))
}

export const PRINCIPAL = {
  auth_typ: 'aad',
  claims: [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: USER_OID },
    { typ: 'name', val: 'Ada Lovelace' },
    { typ: 'preferred_username', val: 'ada@contoso.onmicrosoft.com' },
    { typ: 'roles', val: 'Reader' },
    { typ: 'roles', val: 'Admin' },
  ],
  name_typ: 'preferred_username',
  role_typ: 'roles',
}

/** Every header the platform sets for a signed-in user, in the platform's letter case. */
export function easyAuthHeaders(token = userToken(), overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'X-MS-TOKEN-AAD-ACCESS-TOKEN': token,
    'X-MS-TOKEN-AAD-ID-TOKEN': userToken({ aud: CLIENT_ID }),
    'X-MS-TOKEN-AAD-EXPIRES-ON': new Date(Date.now() + 3_600_000).toISOString(),
    'X-MS-CLIENT-PRINCIPAL': principalHeader(PRINCIPAL),
    'X-MS-CLIENT-PRINCIPAL-ID': USER_OID,
    'X-MS-CLIENT-PRINCIPAL-NAME': 'ada@contoso.onmicrosoft.com',
    'X-MS-CLIENT-PRINCIPAL-IDP': 'aad',
    ...overrides,
  }
}
