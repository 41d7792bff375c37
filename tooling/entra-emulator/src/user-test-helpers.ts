// Helpers for the emulator's own tests of user grants (not exported from the package).
import { decodeJwt } from 'jose'
import type { EntraEmulator } from './emulator-server'

/** A form POST to a tenant's endpoint; the JSON answer and status. */
export async function postForm(
  emulator: EntraEmulator,
  endpoint: 'token' | 'devicecode',
  form: Record<string, string>,
  tenant: string = emulator.tenantId,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await emulator.fetch(`${emulator.url}/${tenant}/oauth2/v2.0/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** The decoded (unverified) payload of a JWT in an answer field. */
export function claimsOf(body: Record<string, unknown>, field = 'access_token'): Record<string, unknown> {
  return decodeJwt(String(body[field])) as Record<string, unknown>
}

/** Runs a device code sign-in for a public client and returns the token answer. */
export async function deviceCodeSignIn(
  emulator: EntraEmulator,
  clientId: string,
  username: string,
  scope: string,
  extra: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const started = await postForm(emulator, 'devicecode', { client_id: clientId, scope })
  if (started.status !== 200) throw new Error(`devicecode answered ${started.status}`)
  emulator.deviceCodes.approve(String(started.body.user_code), username)
  const answer = await postForm(emulator, 'token', {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    client_id: clientId,
    device_code: String(started.body.device_code),
    ...extra,
  })
  if (answer.status !== 200) throw new Error(`device code grant answered ${answer.status}: ${JSON.stringify(answer.body.error_codes)}`)
  return answer.body
}
