import type { AddressInfo } from 'node:net'
import { type EntraEmulator, startEntraEmulator } from '@azcred/entra-emulator'
import { type ArmEmulator, startArmEmulator } from '@azcred/tooling-arm-emulator'
import { type EasyAuthFrontDoor, startEasyAuthFrontDoor } from '@azcred/tooling-easy-auth-front-door'
import { serve } from '@hono/node-server'
import { createSampleApp } from './sample-app'

/** A user of the sample, with what they own in the emulated Resource Manager. */
export interface SampleUser {
  username: string
  password: string
  oid: string
  resourceGroups: string[]
  virtualMachines: string[]
}

/** The running sample: the front door's URL is what a browser opens. */
export interface EasyAuthSample {
  /** The front door (the "App Service" URL). */
  readonly url: string
  /** The app itself, behind the front door (never opened by a browser). */
  readonly appUrl: string
  readonly users: { ada: SampleUser; bob: SampleUser }
  readonly emulator: EntraEmulator
  readonly arm: ArmEmulator
  readonly frontDoor: EasyAuthFrontDoor
  close(): Promise<void>
}

/** Options of {@link startEasyAuthSample}. */
export interface EasyAuthSampleOptions {
  /** Port of the front door. Default 0 (a free port). */
  port?: number
  /**
   * `https` (default, as Entra) or `http` for the Entra emulator: `http` spares a person trying the sample in their
   * own browser the warning about the emulator's loopback test certificate (the app then sets `allowInsecureConnection`,
   * which azcred accepts for loopback hosts only).
   */
  entraProtocol?: 'http' | 'https'
}

const USERS = {
  ada: {
    username: 'ada@contoso.onmicrosoft.com',
    password: 'ada-Passw0rd!',
    groups: [
      { name: 'ada-web-prod', location: 'westeurope' },
      { name: 'ada-data', location: 'northeurope' },
    ],
    machines: [
      { name: 'ada-web-01', resourceGroup: 'ada-web-prod', location: 'westeurope', vmSize: 'Standard_B2s' },
      { name: 'ada-web-02', resourceGroup: 'ada-web-prod', location: 'westeurope', vmSize: 'Standard_B2s' },
    ],
  },
  bob: {
    username: 'bob@contoso.onmicrosoft.com',
    password: 'bob-Passw0rd!',
    groups: [{ name: 'bob-ml-lab', location: 'eastus' }],
    machines: [{ name: 'bob-gpu-01', resourceGroup: 'bob-ml-lab', location: 'eastus', vmSize: 'Standard_NC6s_v3' }],
  },
}

/**
 * Starts the whole sample on loopback: the Entra emulator (two users), the emulated Resource Manager (each user's
 * resource groups and virtual machines), the sample app, and the emulated Easy Auth front door in front of it.
 */
export async function startEasyAuthSample(options: EasyAuthSampleOptions = {}): Promise<EasyAuthSample> {
  const closers: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined)
  }
  try {
    const emulator = await startEntraEmulator({ protocol: options.entraProtocol ?? 'https' })
    closers.push(() => emulator.close())
    const arm = await startArmEmulator({ jwksUrl: `${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`, fetch: emulator.fetch })
    closers.push(() => arm.close())
    const users = {} as { ada: SampleUser; bob: SampleUser }
    for (const key of ['ada', 'bob'] as const) {
      const spec = USERS[key]
      const user = emulator.addUser({ username: spec.username, password: spec.password })
      for (const group of spec.groups) arm.addResourceGroup(user.oid, group)
      for (const machine of spec.machines) arm.addVirtualMachine(user.oid, machine)
      users[key] = {
        username: spec.username,
        password: spec.password,
        oid: user.oid,
        resourceGroups: spec.groups.map((group) => group.name),
        virtualMachines: spec.machines.map((machine) => machine.name),
      }
    }
    let appUrl = ''
    const frontDoor = await startEasyAuthFrontDoor({
      authorityHost: emulator.url,
      tenantId: emulator.tenantId,
      fetch: emulator.fetch,
      register: (redirectUri) => emulator.registerApp({ displayName: 'easy-auth-sample', redirectUris: [redirectUri] }),
      upstream: () => appUrl,
      anonymousPaths: ['/api/whoami'],
      port: options.port,
    })
    closers.push(() => frontDoor.close())
    const app = createSampleApp({
      clientId: frontDoor.client.clientId,
      clientSecret: frontDoor.client.clientSecret,
      authorityHost: emulator.authorityHost,
      fetch: emulator.fetch,
      armUrl: arm.url,
      subscriptionId: arm.subscriptionId,
      ca: emulator.certificate,
      allowInsecureConnection: options.entraProtocol === 'http',
    })
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
    })
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
        }),
    )
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { url: frontDoor.url, appUrl, users, emulator, arm, frontDoor, close }
  } catch (error) {
    await close()
    throw error
  }
}
