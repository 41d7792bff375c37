import type { IncomingMessage } from 'node:http'

/** One request an emulated endpoint received. */
export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  /** Parsed form body of a POST (empty otherwise). */
  form: Record<string, string>
  at: number
}

const MAX_BODY_BYTES = 1_000_000

/** Reads a request's URL and form body (at most 1 MB) and describes it for the request log. */
export async function readRequest(request: IncomingMessage, origin: string): Promise<{ url: URL; form: URLSearchParams; recorded: RecordedRequest }> {
  const url = new URL(request.url ?? '/', origin)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Error('request body over 1 MB')
    chunks.push(chunk as Buffer)
  }
  const form = new URLSearchParams(request.method === 'POST' ? Buffer.concat(chunks).toString('utf8') : '')
  const recorded: RecordedRequest = {
    method: request.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
    form: Object.fromEntries(form),
    at: Date.now(),
  }
  return { url, form, recorded }
}
