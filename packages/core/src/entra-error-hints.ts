// What to do about the Entra ID codes people meet most often (see PROTOCOL.md). Keyed by the
// numeric code from `error_codes`; kept short because every flow bundles it.
const HINTS: Record<number, string> = {
  7000215: 'the client secret is wrong: use the secret Value (not its ID), or create a new one if it was rotated',
  7000222: 'the client secret has expired: create a new one in the app registration',
  700016: 'no application with this client id in the tenant: check clientId, tenantId and the cloud',
  90002: 'the tenant was not found: check tenantId and that authorityHost is the right cloud',
  700024: 'the client assertion is expired or not yet valid: fetch a fresh federated token and check the clock',
  70021: 'no federated identity credential matches the assertion: compare its issuer, subject and audience',
  700213: 'no federated identity credential matches the assertion subject: copy the presented subject into the credential',
  700022: 'the scope names more than one resource: app-only flows take exactly one "<resource>/.default"',
  70011: 'the scope is invalid: app-only flows take exactly one "<resource>/.default"',
  500011: 'the resource in the scope was not found in the tenant: check the scope',
  50196: 'Entra detected a request loop: reuse tokens instead of requesting one per call',
}

/** A fix hint for a known Entra code, or undefined. */
export function hintForEntraCode(code: number | undefined): string | undefined {
  return code === undefined ? undefined : HINTS[code]
}
