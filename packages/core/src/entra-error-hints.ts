// What to do about the Entra ID codes every flow can meet (see PROTOCOL.md). Flow-specific hints
// (a wrong secret, a federated-credential mismatch) live in the flow and are passed as `hints`, so
// no flow bundles another's.
const ONE_RESOURCE = 'app-only flows take exactly one "<resource>/.default" scope'
const COMMON_HINTS: Record<number, string> = {
  700016: 'no such app in the tenant: check clientId, tenantId and the cloud',
  90002: 'no such tenant: check tenantId and the cloud (authorityHost)',
  70011: ONE_RESOURCE,
  700022: ONE_RESOURCE,
  500011: "the scope's resource is not in the tenant: check the scope",
  50196: 'request loop: reuse tokens instead of requesting one per call',
}

/** A fix hint for an Entra code: the flow's own first, then the common ones (none for no code). */
export function hintForEntraCode(code: number | undefined, flowHints?: Record<number, string>): string | undefined {
  // An undefined code reads the key "undefined", which no hint table has.
  return flowHints?.[code as number] ?? COMMON_HINTS[code as number]
}
