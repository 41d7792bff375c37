import { AzcredError, type FetchLike, type RetryOptions, type TokenLifecycleOptions } from '@azcred/core'

/** Retry settings for managed identity endpoints, which also retry 404 and 410 (host updating). */
export interface ManagedIdentityRetryOptions extends RetryOptions {
  /** Wait after a 410 (the endpoint is being upgraded), ms. Default 10 000, so the default 75 s budget keeps trying for at least 70 s. */
  goneDelayMs?: number
}

/** Options of `ManagedIdentityCredential`. Give at most one of `clientId`, `objectId`, `resourceId`. */
export interface ManagedIdentityCredentialOptions extends Omit<TokenLifecycleOptions, 'retry'> {
  /** Client (application) id of a user-assigned identity. Default: the system-assigned identity. */
  clientId?: string
  /** Object (principal) id of a user-assigned identity. */
  objectId?: string
  /** Azure resource id of a user-assigned identity (`/subscriptions/…/userAssignedIdentities/name`). */
  resourceId?: string
  /**
   * IMDS base URL. Default `AZURE_POD_IDENTITY_AUTHORITY_HOST`, else `IMDS_ENDPOINT`, else
   * `http://169.254.169.254`. Other hosts take their endpoint from the variables the platform sets.
   */
  endpoint?: string
  /**
   * Before the first IMDS token request, check quickly that an IMDS answers at all, and remember the
   * answer for the process: "nothing here" becomes `AZCRED_SOURCE_UNAVAILABLE` within `timeoutMs`
   * (default 1 000) instead of a retried network error. Meant for credential chains. Default false.
   */
  probe?: boolean | { timeoutMs?: number }
  /** Retries of 404, 410, 429, 5xx, network errors and timeouts. Default 10 attempts within 75 s. */
  retry?: ManagedIdentityRetryOptions
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Time allowed for one request, ms. Default 30 000. */
  timeoutMs?: number
  /**
   * Azure Arc only (main entry): the folder whose `.key` files the agent's challenge may name. Default
   * `/var/opt/azcmagent/tokens` on Linux, `%ProgramData%\AzureConnectedMachineAgent\Tokens` on Windows.
   */
  arcKeyDirectory?: string
}

/** Which user-assigned identity to ask for; undefined means the system-assigned one. */
export type UserAssignedIdentity = { kind: 'clientId'; value: string } | { kind: 'objectId'; value: string } | { kind: 'resourceId'; value: string }

/**
 * Reads the official constructor shapes: `(clientId, options?)` or `(options?)`.
 * @throws AzcredError AZCRED_CONFIG_INVALID when more than one id is given, or one is empty.
 */
export function readConstructorArguments(
  first: string | ManagedIdentityCredentialOptions | undefined,
  second: ManagedIdentityCredentialOptions | undefined,
): { options: ManagedIdentityCredentialOptions; identity: UserAssignedIdentity | undefined } {
  const options = typeof first === 'string' ? { ...second, clientId: first } : (first ?? {})
  const given = (['clientId', 'objectId', 'resourceId'] as const).filter((kind) => options[kind] !== undefined)
  if (given.length > 1) {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `ManagedIdentityCredential: ${given.join(' and ')} are both set: name a user-assigned identity by one id only`,
    )
  }
  const kind = given[0]
  if (kind === undefined) return { options, identity: undefined }
  const value = options[kind]?.trim() ?? ''
  if (value === '') {
    throw new AzcredError(
      'AZCRED_CONFIG_INVALID',
      `ManagedIdentityCredential: ${kind} is empty: pass the identity's id, or leave it out for the system-assigned identity`,
    )
  }
  return { options, identity: { kind, value } }
}

/** `AZCRED_CONFIG_INVALID` for a host that cannot select a user-assigned identity at run time. */
export function userAssignedNotSupported(hostName: string, identity: UserAssignedIdentity, supported = 'only the system-assigned identity'): AzcredError {
  return new AzcredError(
    'AZCRED_CONFIG_INVALID',
    `${hostName} supports ${supported}, but options.${identity.kind} asks for a user-assigned one: remove it, or run where user-assigned identities can be chosen`,
  )
}
