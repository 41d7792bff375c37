import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose'

/** Options of {@link startArmEmulator}. */
export interface ArmEmulatorOptions {
  /** Where the Entra emulator publishes its signing keys: `<emulator url>/<tenant>/discovery/v2.0/keys`. */
  jwksUrl: string
  /** A fetch that trusts the Entra emulator's certificate (`emulator.fetch`). */
  fetch: (input: string, init?: RequestInit) => Promise<Response>
  /** The one subscription this Resource Manager knows. Default a random GUID. */
  subscriptionId?: string
  /** `https` (default: the loopback leaf of `@azcred/entra-emulator`'s certs, as the official clients need) or `http`. */
  protocol?: 'http' | 'https'
  /** Port. Default 0 (a free port). */
  port?: number
}

/** A resource group of one user. */
export interface EmulatedResourceGroup {
  name: string
  location: string
  tags?: Record<string, string>
}

/** A virtual machine of one user. */
export interface EmulatedVirtualMachine {
  name: string
  resourceGroup: string
  location: string
  vmSize: string
}

/** What the emulator saw: never the token. */
export interface ArmRequestRecord {
  method: string
  path: string
  status: number
  /** The `oid` of the verified token, when there was one. */
  oid?: string
}

/** A running emulated Resource Manager. */
export interface ArmEmulator {
  /** Origin, such as `https://127.0.0.1:51234`: pass it as the clients' `endpoint` (and `$host` for `@azure/arm-resources`). */
  readonly url: string
  readonly subscriptionId: string
  /** The audience tokens must have: `https://management.azure.com`. */
  readonly audience: string
  readonly requests: ArmRequestRecord[]
  /** Gives the user (by object id) a resource group. */
  addResourceGroup(oid: string, group: EmulatedResourceGroup): void
  /** Gives the user (by object id) a virtual machine in one of their resource groups. */
  addVirtualMachine(oid: string, machine: EmulatedVirtualMachine): void
  close(): Promise<void>
}

const AUDIENCES = ['https://management.azure.com', 'https://management.azure.com/', 'https://management.core.windows.net/']
const MAX_AUTHORIZATION_LENGTH = 16_384

interface UserResources {
  groups: Map<string, EmulatedResourceGroup>
  machines: EmulatedVirtualMachine[]
}

/** The loopback leaf and key of `@azcred/entra-emulator` (test-only certificates). */
function loopbackCertificate(): { cert: string; key: string } {
  const root = dirname(createRequire(import.meta.url).resolve('@azcred/entra-emulator/package.json'))
  const ca = readFileSync(join(root, 'certs', 'loopback-ca.crt'), 'utf8')
  const leaf = readFileSync(join(root, 'certs', 'loopback.crt'), 'utf8')
  return { cert: `${leaf.trimEnd()}\n${ca}`, key: readFileSync(join(root, 'certs', 'loopback.key'), 'utf8') }
}

function armError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  response.end(JSON.stringify({ error: { code, message } }))
}

/**
 * Starts a small Azure Resource Manager on loopback: `GET /subscriptions/{id}/resourcegroups` and
 * `GET /subscriptions/{id}[/resourceGroups/{name}]/providers/Microsoft.Compute/virtualMachines`, in the wire shape the
 * official `@azure/arm-resources` and `@azure/arm-compute` clients read. Every request needs a bearer token the Entra
 * emulator signed (verified against its JWKS) for `https://management.azure.com` with a user (`oid`) and the delegated
 * `user_impersonation` permission (`scp`); it answers only that user's resources.
 */
export async function startArmEmulator(options: ArmEmulatorOptions): Promise<ArmEmulator> {
  const subscriptionId = options.subscriptionId ?? randomUUID()
  const users = new Map<string, UserResources>()
  const requests: ArmRequestRecord[] = []
  let keys: ReturnType<typeof createLocalJWKSet> | undefined
  let keysFetchedAt = 0

  async function loadKeys(force: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    // Fetched once, and again at most every 10 s when a token names a key this set does not have.
    if (keys === undefined || (force && Date.now() - keysFetchedAt > 10_000)) {
      const response = await options.fetch(options.jwksUrl, { signal: AbortSignal.timeout(5_000) })
      if (!response.ok) throw new Error(`JWKS answered ${response.status}`)
      keys = createLocalJWKSet((await response.json()) as JSONWebKeySet)
      keysFetchedAt = Date.now()
    }
    return keys
  }

  async function verify(authorization: string | undefined): Promise<JWTPayload | string> {
    const match = authorization !== undefined && authorization.length <= MAX_AUTHORIZATION_LENGTH ? /^Bearer ([\w.-]+)$/.exec(authorization) : null
    if (match?.[1] === undefined) return 'the request has no bearer token'
    const token = match[1]
    try {
      const { payload } = await jwtVerify(token, await loadKeys(false), { audience: AUDIENCES, algorithms: ['RS256'] })
      return payload
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY') {
        try {
          return (await jwtVerify(token, await loadKeys(true), { audience: AUDIENCES, algorithms: ['RS256'] })).payload
        } catch {}
      }
      const code = (error as { code?: string }).code
      return code === 'ERR_JWT_EXPIRED'
        ? 'the token expired'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
          ? 'the token is for another audience'
          : 'the token signature is not valid'
    }
  }

  function resourcesOf(oid: string): UserResources {
    let resources = users.get(oid)
    if (resources === undefined) {
      resources = { groups: new Map(), machines: [] }
      users.set(oid, resources)
    }
    return resources
  }

  function groupJson(group: EmulatedResourceGroup): Record<string, unknown> {
    return {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${group.name}`,
      name: group.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: group.location,
      tags: group.tags ?? {},
      properties: { provisioningState: 'Succeeded' },
    }
  }

  function machineJson(machine: EmulatedVirtualMachine): Record<string, unknown> {
    return {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${machine.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${machine.name}`,
      name: machine.name,
      type: 'Microsoft.Compute/virtualMachines',
      location: machine.location,
      properties: { vmId: randomUUID(), hardwareProfile: { vmSize: machine.vmSize }, provisioningState: 'Succeeded' },
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://arm.local')
    const record: ArmRequestRecord = { method: request.method ?? 'GET', path: url.pathname, status: 0 }
    requests.push(record)
    if (requests.length > 1000) requests.shift()
    const fail = (status: number, code: string, message: string, headers?: Record<string, string>): void => {
      record.status = status
      armError(response, status, code, message, headers)
    }
    if (request.method !== 'GET') return fail(405, 'MethodNotAllowed', 'this emulated Resource Manager answers GET only')
    if (!url.searchParams.get('api-version'))
      return fail(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.')
    const claims = await verify(request.headers.authorization)
    if (typeof claims === 'string') {
      return fail(401, 'InvalidAuthenticationToken', `The access token is invalid: ${claims}.`, {
        'www-authenticate': 'Bearer authorization_uri="", error="invalid_token"',
      })
    }
    const oid = typeof claims.oid === 'string' ? claims.oid : undefined
    const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : []
    record.oid = oid
    if (oid === undefined || !scopes.includes('user_impersonation')) {
      return fail(
        403,
        'AuthorizationFailed',
        'This emulated Resource Manager serves signed-in users only: the token needs oid and scp user_impersonation (a delegated token).',
      )
    }
    const parts = url.pathname
      .split('/')
      .filter(Boolean)
      .map((part) => decodeURIComponent(part))
    if (parts[0]?.toLowerCase() !== 'subscriptions' || parts[1] !== subscriptionId) {
      return fail(404, 'SubscriptionNotFound', `The subscription '${(parts[1] ?? '').slice(0, 64)}' could not be found.`)
    }
    const mine = resourcesOf(oid)
    // Path words are case-insensitive in Resource Manager; a resource group's name keeps its case.
    const rest = parts.slice(2).map((part, index) => (index === 1 && parts[2]?.toLowerCase() === 'resourcegroups' ? part : part.toLowerCase()))
    const send = (value: unknown[]): void => {
      record.status = 200
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      response.end(JSON.stringify({ value }))
    }
    if (rest.length === 1 && rest[0] === 'resourcegroups') return send([...mine.groups.values()].map(groupJson))
    if (rest.length === 3 && rest[0] === 'providers' && rest[1] === 'microsoft.compute' && rest[2] === 'virtualmachines') {
      return send(mine.machines.map(machineJson))
    }
    if (rest.length === 5 && rest[0] === 'resourcegroups' && rest[2] === 'providers' && rest[3] === 'microsoft.compute' && rest[4] === 'virtualmachines') {
      const group = rest[1] as string
      if (!mine.groups.has(group)) return fail(404, 'ResourceGroupNotFound', `Resource group '${group.slice(0, 90)}' could not be found.`)
      return send(mine.machines.filter((machine) => machine.resourceGroup === group).map(machineJson))
    }
    return fail(404, 'NotFound', 'this emulated Resource Manager knows resource groups and virtual machines only')
  }

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch(() => {
      if (!response.headersSent) armError(response, 500, 'InternalServerError', 'the emulated Resource Manager failed')
      else response.destroy()
    })
  }
  const https = (options.protocol ?? 'https') === 'https'
  const server = https ? createHttpsServer(loopbackCertificate(), listener) : createServer(listener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `${https ? 'https' : 'http'}://127.0.0.1:${port}`,
    subscriptionId,
    audience: 'https://management.azure.com',
    requests,
    addResourceGroup(oid, group) {
      resourcesOf(oid).groups.set(group.name, { ...group })
    },
    addVirtualMachine(oid, machine) {
      const mine = resourcesOf(oid)
      if (!mine.groups.has(machine.resourceGroup)) throw new Error(`add the resource group ${machine.resourceGroup} first`)
      mine.machines.push({ ...machine })
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
