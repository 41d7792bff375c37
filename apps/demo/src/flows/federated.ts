import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClientAssertionCredential } from '@azcred/client-assertion'
import { type FederatedTokenProvider, readJwtClaims } from '@azcred/core'
import { createOidcIssuer, startCognitoIdentity, startGitHubActionsOidc } from '@azcred/entra-emulator'
import { createCognitoTokenProvider } from '@azcred/federation-aws-cognito'
import { createGitHubTokenProvider } from '@azcred/federation-github'
import { WorkloadIdentityCredential } from '@azcred/workload-identity'
import type { DemoFlow } from '../demo-flow'

/** Federated flows: a custom provider, an AKS projected token file, GitHub Actions OIDC, AWS Cognito. */
export function federatedFlows(): DemoFlow[] {
  return [
    {
      name: 'client assertion (custom provider)',
      scope: 'https://storage.azure.com/.default',
      async run(emulator) {
        const issuer = await createOidcIssuer('https://idp.contoso.example.invalid')
        emulator.trustIssuer(issuer.issuer, issuer.jwks)
        const app = emulator.registerApp({ federatedCredentials: [{ issuer: issuer.issuer, subject: 'batch-worker' }] })
        const provider: FederatedTokenProvider = {
          name: 'contoso-idp',
          getFederatedToken: ({ audience }) => issuer.issue({ subject: 'batch-worker', audience }),
        }
        const credential = new ClientAssertionCredential(app.tenantId, app.clientId, provider, { authorityHost: emulator.authorityHost, fetch: emulator.fetch })
        return credential.getToken('https://storage.azure.com/.default')
      },
    },
    {
      name: 'workload identity (AKS token file)',
      scope: 'https://vault.azure.net/.default',
      async run(emulator) {
        const cluster = await createOidcIssuer('https://oidc.aks.example.invalid/cluster/')
        emulator.trustIssuer(cluster.issuer, cluster.jwks)
        const subject = 'system:serviceaccount:default:demo'
        const app = emulator.registerApp({ federatedCredentials: [{ issuer: cluster.issuer, subject }] })
        const folder = mkdtempSync(join(tmpdir(), 'azcred-demo-'))
        try {
          const tokenFilePath = join(folder, 'azure-identity-token')
          writeFileSync(tokenFilePath, await cluster.issue({ subject, audience: 'api://AzureADTokenExchange' }))
          const credential = new WorkloadIdentityCredential({
            tenantId: app.tenantId,
            clientId: app.clientId,
            tokenFilePath,
            authorityHost: emulator.authorityHost,
            fetch: emulator.fetch,
          })
          return await credential.getToken('https://vault.azure.net/.default')
        } finally {
          rmSync(folder, { recursive: true, force: true })
        }
      },
    },
    {
      name: 'GitHub Actions OIDC federation',
      scope: 'https://management.azure.com/.default',
      async run(emulator) {
        const github = await startGitHubActionsOidc({ subject: 'repo:contoso/app:ref:refs/heads/main' })
        try {
          emulator.trustIssuer(github.issuer.issuer, github.issuer.jwks)
          const app = emulator.registerApp({ federatedCredentials: [{ issuer: github.issuer.issuer, subject: github.subject }] })
          const provider = createGitHubTokenProvider({ requestUrl: github.requestUrl, requestToken: github.requestToken, allowInsecureConnection: true })
          const credential = new ClientAssertionCredential(app.tenantId, app.clientId, provider, {
            authorityHost: emulator.authorityHost,
            fetch: emulator.fetch,
          })
          return await credential.getToken('https://management.azure.com/.default')
        } finally {
          await github.close()
        }
      },
    },
    {
      name: 'AWS Cognito federation (AWS SDK)',
      scope: 'https://storage.azure.com/.default',
      async run(emulator) {
        const cognito = await startCognitoIdentity()
        try {
          const identityPoolId = 'us-east-1:0d0d0d0d-1111-2222-3333-444444444444'
          cognito.addPool({ identityPoolId })
          emulator.trustIssuer(cognito.issuer.issuer, cognito.issuer.jwks)
          // Static test credentials: the SDK never walks its default chain (no EC2 IMDS probe).
          const provider = createCognitoTokenProvider({
            identityPoolId,
            clientConfig: { endpoint: cognito.endpoint, credentials: { accessKeyId: 'AKIDDEMO', secretAccessKey: 'demo' } },
          })
          const subject = String(readJwtClaims(await provider.getFederatedToken({ audience: identityPoolId }))?.sub)
          const app = emulator.registerApp({ federatedCredentials: [{ issuer: cognito.issuer.issuer, subject, audiences: [identityPoolId] }] })
          const credential = new ClientAssertionCredential(app.tenantId, app.clientId, provider, {
            authorityHost: emulator.authorityHost,
            fetch: emulator.fetch,
          })
          return await credential.getToken('https://storage.azure.com/.default')
        } finally {
          await cognito.close()
        }
      },
    },
  ]
}
