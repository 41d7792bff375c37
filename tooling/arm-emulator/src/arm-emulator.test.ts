import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ArmEmulator, startArmEmulator } from './arm-emulator'

let emulator: EntraEmulator
let arm: ArmEmulator
const users = { ada: 'ada@contoso.onmicrosoft.com', bob: 'bob@contoso.onmicrosoft.com' }
let adaOid = ''

beforeAll(async () => {
  emulator = await startEntraEmulator()
  adaOid = emulator.addUser({ username: users.ada }).oid
  const bobOid = emulator.addUser({ username: users.bob }).oid
  arm = await startArmEmulator({ jwksUrl: `${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`, fetch: emulator.fetch })
  arm.addResourceGroup(adaOid, { name: 'ada-rg', location: 'westeurope' })
  arm.addVirtualMachine(adaOid, { name: 'ada-vm', resourceGroup: 'ada-rg', location: 'westeurope', vmSize: 'Standard_B2s' })
  arm.addResourceGroup(bobOid, { name: 'bob-rg', location: 'eastus' })
})

afterAll(async () => {
  await arm?.close()
  await emulator?.close()
})

async function list(path: string, token: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await emulator.fetch(`${arm.url}/subscriptions/${arm.subscriptionId}${path}?api-version=2025-04-01`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const names = (body: Record<string, unknown>): string[] => (body.value as Array<{ name: string }>).map((entry) => entry.name)

describe('emulated Resource Manager', () => {
  it("answers each user's own resource groups and virtual machines only", async () => {
    const ada = await emulator.issueUserToken({ username: users.ada, audience: 'https://management.azure.com', scopes: ['user_impersonation'] })
    const bob = await emulator.issueUserToken({ username: users.bob, audience: 'https://management.azure.com', scopes: ['user_impersonation'] })
    expect(names((await list('/resourcegroups', ada)).body)).toEqual(['ada-rg'])
    expect(names((await list('/resourcegroups', bob)).body)).toEqual(['bob-rg'])
    expect(names((await list('/providers/Microsoft.Compute/virtualMachines', ada)).body)).toEqual(['ada-vm'])
    expect(names((await list('/providers/Microsoft.Compute/virtualMachines', bob)).body)).toEqual([])
    expect(names((await list('/resourceGroups/ada-rg/providers/Microsoft.Compute/virtualMachines', ada)).body)).toEqual(['ada-vm'])
    expect((await list('/resourceGroups/ada-rg/providers/Microsoft.Compute/virtualMachines', bob)).status).toBe(404)
    expect(arm.requests.at(-1)).toMatchObject({ status: 404 })
    expect(JSON.stringify(arm.requests)).not.toContain(ada.slice(0, 40))
  })

  it('refuses a missing, forged, expired, wrong-audience or app-only token', async () => {
    expect((await list('/resourcegroups', undefined)).status).toBe(401)
    const ada = await emulator.issueUserToken({ username: users.ada, audience: 'https://management.azure.com', scopes: ['user_impersonation'] })
    const [header, payload] = ada.split('.')
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), oid: 'x' })).toString('base64url')
    expect((await list('/resourcegroups', `${header}.${forgedPayload}.${ada.split('.')[2]}`)).status).toBe(401)
    const expired = await emulator.issueUserToken({ username: users.ada, audience: 'https://management.azure.com', expiresInSeconds: -60 })
    expect((await list('/resourcegroups', expired)).body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } })
    const graph = await emulator.issueUserToken({ username: users.ada, audience: 'https://graph.microsoft.com' })
    expect((await list('/resourcegroups', graph)).status).toBe(401)
    const app = emulator.registerApp()
    const appToken = (await (
      await emulator.fetch(`${emulator.url}/${app.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: app.clientId,
          client_secret: app.clientSecret,
          scope: 'https://management.azure.com/.default',
        }).toString(),
      })
    ).json()) as { access_token: string }
    expect((await list('/resourcegroups', appToken.access_token)).status).toBe(403)
  })

  it('refuses another subscription', async () => {
    const ada = await emulator.issueUserToken({ username: users.ada, audience: 'https://management.azure.com', scopes: ['user_impersonation'] })
    const response = await emulator.fetch(`${arm.url}/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups?api-version=2025-04-01`, {
      headers: { authorization: `Bearer ${ada}` },
    })
    expect(response.status).toBe(404)
  })
})
