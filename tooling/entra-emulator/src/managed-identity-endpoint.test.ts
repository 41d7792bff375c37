import { decodeJwt } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { type ManagedIdentityEndpoint, startManagedIdentityEndpoint } from './managed-identity-endpoint'

const open: ManagedIdentityEndpoint[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((endpoint) => endpoint.close()))
})

async function start(host: 'imds' | 'azure-ml'): Promise<ManagedIdentityEndpoint> {
  const endpoint = await startManagedIdentityEndpoint({ host })
  open.push(endpoint)
  return endpoint
}

describe('emulated managed identity endpoints behave like the real ones', () => {
  it('IMDS refuses a request without Metadata as the real IMDS does: 400 with a JSON error about the header', async () => {
    const imds = await start('imds')
    const response = await fetch(`${imds.url}/metadata/identity/oauth2/token?api-version=2018-02-01`)
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(await response.json()).toEqual({ error: 'bad_request_102', error_description: 'Required metadata header not specified' })
  })

  it('Azure ML answers a request without clientid with the compute user token, and sets DEFAULT_IDENTITY_CLIENT_ID', async () => {
    const ml = await start('azure-ml')
    expect(ml.env.DEFAULT_IDENTITY_CLIENT_ID).toBe(ml.systemAssigned.clientId)
    const ask = async (query: string) => {
      const response = await fetch(`${ml.url}?api-version=2017-09-01&resource=https://vault.azure.net${query}`, { headers: { secret: ml.secret as string } })
      return decodeJwt(((await response.json()) as { access_token: string }).access_token).oid
    }
    expect(await ask('')).toBe(ml.computeUser.objectId)
    expect(await ask(`&clientid=${ml.systemAssigned.clientId}`)).toBe(ml.systemAssigned.objectId)
    expect(await ask(`&clientid=${ml.userAssigned[0]?.clientId}`)).toBe(ml.userAssigned[0]?.objectId)
  })

  it('injectRedirect answers the planned requests with the status and Location, after skipping some', async () => {
    const imds = await start('imds')
    imds.injectRedirect('http://127.0.0.2:9/elsewhere', { status: 308, skip: 1, count: 1 })
    const path = `${imds.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r`
    const statuses = []
    for (let index = 0; index < 3; index += 1) {
      const response = await fetch(path, { headers: { Metadata: 'true' }, redirect: 'manual' })
      statuses.push([response.status, response.headers.get('location')])
    }
    expect(statuses).toEqual([
      [200, null],
      [308, 'http://127.0.0.2:9/elsewhere'],
      [200, null],
    ])
  })
})
