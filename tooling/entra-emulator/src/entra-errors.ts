import { randomUUID } from 'node:crypto'

/** An error answer in Entra ID's JSON shape, with the status it is sent with. */
export interface EntraErrorAnswer {
  status: number
  body: Record<string, unknown>
}

/** Builds Entra's error JSON: error, AADSTS-prefixed description, error_codes, ids, error_uri. */
export function entraError(
  status: number,
  error: string,
  code: number,
  description: string,
  correlationId: string = randomUUID(),
  extra: Record<string, unknown> = {},
): EntraErrorAnswer {
  const traceId = randomUUID()
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      ...extra,
    },
  }
}
