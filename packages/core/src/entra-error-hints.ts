// What to do about the Entra ID codes every flow can meet (see PROTOCOL.md). Flow-specific hints
// (a wrong secret, a federated-credential mismatch) live in the flow and are passed as `hints`, so
// no flow bundles another's.
const COMMON_HINTS: Record<number, string> = {
  700016: 'no application with this client id in the tenant: check clientId, tenantId and the cloud',
  90002: 'the tenant was not found: check tenantId and that authorityHost is the right cloud',
  70011: 'the scope is invalid: app-only flows take exactly one "<resource>/.default"',
  700022: 'the scope names more than one resource: app-only flows take exactly one "<resource>/.default"',
  500011: 'the resource in the scope was not found in the tenant: check the scope',
  50196: 'Entra detected a request loop: reuse tokens instead of requesting one per call',
}

/** A fix hint for an Entra code: the flow's own first, then the common ones. */
export function hintForEntraCode(code: number | undefined, flowHints?: Record<number, string>): string | undefined {
  return code === undefined ? undefined : (flowHints?.[code] ?? COMMON_HINTS[code])
}
