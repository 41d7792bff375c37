import { readFile, stat } from 'node:fs/promises'
import { dirname, extname, join, resolve } from 'node:path'
import { AzcredError, type FetchLike, readEnv, TokenRequestError } from '@azcred/core'
import { ENV_IDENTITY_ENDPOINT } from './managed-identity-app-service'
import { userAssignedNotSupported } from './managed-identity-options'
import { endpointFromEnv, type ManagedIdentityHost, type ManagedIdentityHostFactory, requestManagedIdentityToken, withQuery } from './managed-identity-request'

/** Where the Azure Connected Machine agent listens when `IDENTITY_ENDPOINT` is not set. */
export const DEFAULT_ARC_ENDPOINT = 'http://localhost:40342/metadata/identity/oauth2/token'
/** The agent binary whose presence marks an Arc-enabled server that lacks the variables. */
export const ARC_AGENT_PATHS = { linux: '/opt/azcmagent/bin/himds', win32: 'AzureConnectedMachineAgent\\himds.exe' } as const

const MAX_KEY_BYTES = 4096

/** The only folder whose `.key` files an Arc challenge may name, per platform; undefined where Arc does not run. */
export function defaultArcKeyDirectory(platform: string = process.platform): string | undefined {
  if (platform === 'linux') return '/var/opt/azcmagent/tokens'
  if (platform === 'win32') return join(process.env.ProgramData ?? 'C:\\ProgramData', 'AzureConnectedMachineAgent', 'Tokens')
  return undefined
}

/**
 * Azure Arc: the first request is answered 401 with `WWW-Authenticate: Basic realm=<file>`; the file
 * must sit in the agent's token folder, end in `.key` and hold at most 4096 bytes; its contents go
 * back as `Authorization: Basic <contents>`. System-assigned identity only.
 */
export function createArcHost(endpoint: string, keyDirectory: string | undefined): ManagedIdentityHost {
  return {
    name: 'Azure Arc',
    async fetchToken(request) {
      if (request.identity !== undefined) throw userAssignedNotSupported('Azure Arc', request.identity)
      const url = withQuery(endpoint, { 'api-version': '2020-06-01', resource: request.resource })
      let challenge: string | null = null
      const fetchImplementation: FetchLike = request.fetch ?? globalThis.fetch
      const capturing: FetchLike = async (input, init) => {
        const response = await fetchImplementation(input, init)
        challenge = response.headers.get('www-authenticate')
        return response
      }
      try {
        return await requestManagedIdentityToken('Azure Arc', { url, headers: { Metadata: 'true' } }, { ...request, fetch: capturing })
      } catch (error) {
        if (!(error instanceof TokenRequestError) || error.status !== 401 || challenge === null) throw error
      }
      const key = await readArcKey(realmOf(challenge), keyDirectory)
      return requestManagedIdentityToken('Azure Arc', { url, headers: { Metadata: 'true', Authorization: `Basic ${key}` } }, request)
    },
  }
}

function realmOf(challenge: string): string {
  const match = /realm=("?)([^"]+)\1/i.exec(challenge)
  if (match?.[2] === undefined) {
    throw new AzcredError('AZCRED_RESPONSE_INVALID', 'the Azure Arc managed identity endpoint answered 401 without a Basic realm naming its key file')
  }
  return match[2].trim()
}

async function readArcKey(path: string, keyDirectory: string | undefined): Promise<string> {
  if (keyDirectory === undefined) {
    throw new AzcredError('AZCRED_CONFIG_INVALID', `Azure Arc managed identity runs on Linux and Windows; this is ${process.platform}`)
  }
  const refuse = (why: string): AzcredError =>
    new AzcredError(
      'AZCRED_RESPONSE_INVALID',
      `the Azure Arc endpoint's challenge names a key file that ${why}: refused, because the agent writes keys only as .key files of at most ${MAX_KEY_BYTES} bytes in ${keyDirectory}`,
    )
  const file = resolve(path)
  const sameFolder =
    process.platform === 'win32' ? dirname(file).toLowerCase() === resolve(keyDirectory).toLowerCase() : dirname(file) === resolve(keyDirectory)
  if (!sameFolder) throw refuse('is outside the agent token folder')
  if (extname(file).toLowerCase() !== '.key') throw refuse('does not end in .key')
  try {
    if ((await stat(file)).size > MAX_KEY_BYTES) throw refuse(`is larger than ${MAX_KEY_BYTES} bytes`)
    return (await readFile(file, 'utf8')).trim()
  } catch (error) {
    if (AzcredError.isInstance(error)) throw error
    const code = (error as { code?: string }).code ?? 'unknown error'
    if (code === 'EACCES' || code === 'EPERM') {
      throw new AzcredError(
        'AZCRED_CONFIG_INVALID',
        `cannot read the Azure Arc key file (${code}): run as an administrator, or add this user to the himds group`,
      )
    }
    throw new AzcredError(
      'AZCRED_RESPONSE_INVALID',
      `cannot read the key file the Azure Arc endpoint named (${code}): check that the Connected Machine agent is running`,
    )
  }
}

/** Azure Arc's factory for the host table (Node build): `IDENTITY_ENDPOINT`, or the agent's default endpoint. */
export const createArcHostFromEnv: ManagedIdentityHostFactory = (options) =>
  createArcHost(
    readEnv(ENV_IDENTITY_ENDPOINT) === undefined ? DEFAULT_ARC_ENDPOINT : endpointFromEnv(ENV_IDENTITY_ENDPOINT),
    options.arcKeyDirectory ?? defaultArcKeyDirectory(),
  )
