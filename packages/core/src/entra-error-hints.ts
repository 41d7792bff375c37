// What to do about the Entra ID codes every flow can meet (see PROTOCOL.md). Flow-specific hints
// (a wrong secret, a federated-credential mismatch) live in the flow and are passed as `hints`, so
// no flow bundles another's.
const ONE_RESOURCE = 'app-only flows take exactly one "<resource>/.default" scope'
const COMMON_HINTS: Record<number, string> = {
  700016: 'no app with this clientId in the tenant: check clientId, tenantId and the cloud',
  90002: 'tenant not found: check tenantId and that authorityHost is the right cloud',
  70011: ONE_RESOURCE,
  700022: ONE_RESOURCE,
  500011: 'the resource in the scope is not in the tenant: check the scope',
  50196: 'request loop detected: reuse tokens, do not request one per call',
}

/** A fix hint for an Entra code: the flow's own first, then the common ones. */
export function hintForEntraCode(code: number | undefined, flowHints?: Record<number, string>): string | undefined {
  return code === undefined ? undefined : (flowHints?.[code] ?? COMMON_HINTS[code])
}
