import type { AccessToken, FetchLike, GetTokenOptions } from '@azcred/core'
import { detectHost, type NodeOnlySourceName } from './managed-identity-hosts'
import { createManagedIdentityLifecycle, getManagedIdentityToken } from './managed-identity-lifecycle'
import { type ManagedIdentityCredentialOptions, readConstructorArguments } from './managed-identity-options'
import type { DetectionRuntime, ManagedIdentityHostFactory, ManagedIdentitySource, TokenSource } from './managed-identity-request'

/** What a build of `ManagedIdentityCredential` brings: the Node build knows every host, the runtime-agnostic one the fetch-only hosts. */
export interface ManagedIdentityRuntime extends DetectionRuntime {
  /**
   * The factories of the rows without one, the hosts that need Node, by name: the Node build's build
   * their endpoints, the runtime-agnostic build's report them unavailable.
   */
  factories: Readonly<Record<NodeOnlySourceName, ManagedIdentityHostFactory>>
  /** The `fetch` the lifecycle uses, given `options.fetch` (the Node build: a direct connection). */
  transport?: (fetch: FetchLike | undefined) => FetchLike | undefined
}

/** A credential's detected host and what answers its `getToken`. */
export interface ManagedIdentityBinding {
  readonly source: ManagedIdentitySource
  /** The lifecycle around the host, or a credential the host brings (AKS workload identity). */
  readonly target: TokenSource
  /** Refuse more than one scope before the target sees them (every host but AKS workload identity). */
  readonly oneScope: boolean
}

/**
 * Reads the constructor arguments, detects the host from the table and builds its endpoint and
 * lifecycle (`ManagedIdentityCredential`'s constructor, in both builds).
 * @throws AzcredError AZCRED_CONFIG_INVALID for bad options or a platform variable that is not an http(s) URL.
 */
export function bindManagedIdentity(
  first: string | ManagedIdentityCredentialOptions | undefined,
  second: ManagedIdentityCredentialOptions | undefined,
  runtime: ManagedIdentityRuntime,
): ManagedIdentityBinding {
  const { options, identity } = readConstructorArguments(first, second)
  const clientId = identity?.kind === 'clientId' ? identity.value : undefined
  const { entry, source } = detectHost({ clientId }, runtime)
  // Every Node-only row has a factory in each build's runtime (the type requires it).
  const create = entry.create ?? (runtime.factories[entry.name as NodeOnlySourceName] as ManagedIdentityHostFactory)
  const built = create(options, identity, source)
  if (!('fetchToken' in built)) return { source, target: built, oneScope: false }
  return { source, target: createManagedIdentityLifecycle(built, identity, options, runtime.transport?.(options.fetch)), oneScope: true }
}

/** `getToken` of a bound credential. */
export function getBoundToken(binding: ManagedIdentityBinding, scopes: string | string[], options: GetTokenOptions | undefined): Promise<AccessToken> {
  return getManagedIdentityToken(binding.target, scopes, options, binding.oneScope)
}
