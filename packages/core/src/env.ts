/**
 * `AZURE_TENANT_ID`: the directory (tenant) id.
 * @public
 */
export const ENV_TENANT_ID = 'AZURE_TENANT_ID'
/**
 * `AZURE_CLIENT_ID`: the application (client) id.
 * @public
 */
export const ENV_CLIENT_ID = 'AZURE_CLIENT_ID'
/**
 * `AZURE_CLIENT_SECRET`: a client secret value.
 * @public
 */
export const ENV_CLIENT_SECRET = 'AZURE_CLIENT_SECRET'
/**
 * `AZURE_AUTHORITY_HOST`: the Entra ID host, such as `https://login.microsoftonline.us`.
 * @public
 */
export const ENV_AUTHORITY_HOST = 'AZURE_AUTHORITY_HOST'
/**
 * `AZURE_ADDITIONALLY_ALLOWED_TENANTS`: `;`-separated tenants a call may switch to, or `*`.
 * @public
 */
export const ENV_ADDITIONALLY_ALLOWED_TENANTS = 'AZURE_ADDITIONALLY_ALLOWED_TENANTS'
/**
 * `AZURE_LOG_LEVEL`: `info` or `verbose` writes lifecycle events to the console when no `onEvent` is given.
 * @public
 */
export const ENV_LOG_LEVEL = 'AZURE_LOG_LEVEL'

/**
 * Reads an environment variable on runtimes that have `process.env`, and returns undefined where
 * there is none (browsers, most edge runtimes) or where the variable is empty.
 * @internal For azcred's own packages; not covered by semver.
 */
export function readEnv(name: string): string | undefined {
  // `||` turns an empty value into undefined too.
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] || undefined
}

// The variables undici's EnvHttpProxyAgent reads for a proxy (NO_PROXY only narrows them).
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']

/**
 * True when a proxy is configured through `HTTPS_PROXY` / `HTTP_PROXY` (either case, non-empty).
 * @internal For azcred's own packages; not covered by semver.
 */
export function proxyFromEnv(): boolean {
  return PROXY_VARIABLES.some((name) => readEnv(name) !== undefined)
}
