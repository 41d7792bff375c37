import { AzcredError } from './azcred-error'

/**
 * The account a user credential signed in, with `@azure/identity`'s shape: keep it (it holds no
 * secret) and pass it back so a new process finds the cached tokens of the same account without a
 * prompt. Returned by a user credential's `authenticate(scopes)`.
 * @public
 */
export interface AuthenticationRecord {
  /** The authority's host (`environment` in MSAL), such as `login.microsoftonline.com`: no scheme. */
  authority: string
  /** The account's home id, `<uid>.<utid>` (object id and home tenant id, as `client_info` gives them). */
  homeAccountId: string
  /** The application (client) id the account signed in to. */
  clientId: string
  /** The tenant the account signed in to: a GUID, a domain, or `common` / `organizations` / `consumers`. */
  tenantId: string
  /** The sign-in name (`preferred_username`), such as `ada@contoso.com`; may be empty when Entra gave none. */
  username: string
}

/**
 * The record version written, and the only one read (as `@azure/identity` writes it).
 * @public
 */
export const AUTHENTICATION_RECORD_VERSION = '1.0'

/**
 * Longest serialised record read, in characters (16 KB; a real one is about 300).
 * @public
 */
export const MAX_AUTHENTICATION_RECORD_LENGTH = 16_384

// Each field: its rule (a pattern over the whole string) and what the message says it must be. Literals
// only at module level, so a bundle that never reads a record drops this table.
const FIELDS: Array<[keyof AuthenticationRecord, RegExp, string]> = [
  // MSAL's environment is the host; a tenant path after it (`host/tenant`) is accepted as older records had it.
  ['authority', /^[a-z\d.-]{1,253}(:\d{1,5})?(\/[\w.-]{1,256})?$/i, 'a host name such as login.microsoftonline.com (no scheme)'],
  ['homeAccountId', /^[\w-]{1,160}\.[\w-]{1,160}$/, 'uid.utid (letters, digits, _ or -, one dot)'],
  ['clientId', /^[!-~]{1,256}$/, '1 to 256 printable characters without spaces'],
  ['tenantId', /^[\w.-]{1,256}$/, 'a tenant id or domain'],
  // A sign-in name may be non-ASCII; never a control, format, lone-surrogate or line-separator character.
  ['username', /^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]{0,256}$/u, 'at most 256 characters without control characters'],
]

function checkedRecord(value: unknown): AuthenticationRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'authenticationRecord must be an object (the result of authenticate())')
  }
  const record = {} as AuthenticationRecord
  for (const [name, pattern, rule] of FIELDS) {
    let field: unknown
    try {
      field = (value as Record<string, unknown>)[name]
    } catch {
      // A throwing getter or Proxy: its error could quote anything; the field is refused below.
    }
    // The value is never quoted: a mistaken paste could be a secret.
    if (typeof field !== 'string' || !pattern.test(field)) throw new AzcredError('AZCRED_CONFIG_INVALID', `authenticationRecord.${name} must be ${rule}`)
    record[name] = field
  }
  return record
}

/**
 * Writes a record as versioned JSON, the form `@azure/identity` writes and reads:
 * `{"authority":…,"homeAccountId":…,"clientId":…,"tenantId":…,"username":…,"version":"1.0"}`.
 * Only these fields are written (any other property of `record` is left out).
 * @throws AzcredError AZCRED_CONFIG_INVALID naming the first field that breaks the rules of
 * {@link deserializeAuthenticationRecord} (so what is written can be read back).
 * @example writeFileSync(path, serializeAuthenticationRecord(await credential.authenticate(scopes)))
 * @public
 */
export function serializeAuthenticationRecord(record: AuthenticationRecord): string {
  return JSON.stringify({ ...checkedRecord(record), version: AUTHENTICATION_RECORD_VERSION })
}

/**
 * Reads a record written by {@link serializeAuthenticationRecord} or by `@azure/identity`'s. The
 * `version` must be `"1.0"` or absent (as `@azure/identity` reads it); other properties are ignored.
 * Fields: `authority` a host name (optionally `:port`, optionally `/tenant`), `homeAccountId` `<uid>.<utid>` (each 1 to 160
 * letters, digits, `_` or `-`), `clientId` 1 to 256 printable characters, `tenantId` a tenant id or
 * domain, `username` at most 256 characters without control characters (may be empty).
 * @throws AzcredError AZCRED_CONFIG_INVALID for text over {@link MAX_AUTHENTICATION_RECORD_LENGTH}
 * characters, not JSON, not an object, another version, or a field that breaks its rule (the message
 * names the field, never its value).
 * @example const record = deserializeAuthenticationRecord(readFileSync(path, 'utf8'))
 * @public
 */
export function deserializeAuthenticationRecord(text: string): AuthenticationRecord {
  if (typeof text !== 'string' || text.length > MAX_AUTHENTICATION_RECORD_LENGTH) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `authenticationRecord must be the text serializeAuthenticationRecord wrote (at most ${MAX_AUTHENTICATION_RECORD_LENGTH} characters)`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AzcredError('AZCRED_CONFIG_INVALID', 'authenticationRecord is not JSON: pass the text serializeAuthenticationRecord wrote')
  }
  const version = (parsed as Record<string, unknown> | null)?.version
  if (version !== undefined && version !== AUTHENTICATION_RECORD_VERSION) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', `authenticationRecord.version must be "${AUTHENTICATION_RECORD_VERSION}" (the only version there is)`)
  }
  return checkedRecord(parsed)
}
