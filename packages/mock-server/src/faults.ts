import { assertDuration } from './options.js'

/**
 * How an injected failure answers a token request.
 * @example auth.failNext(2, { status: 503, headers: { 'retry-after': '1' } })
 */
export interface TokenFault {
  /** @default 503 */
  status?: number
  /** The OAuth `error`. @default by status: 400 invalid_request, 401 invalid_client, 503 temporarily_unavailable, else server_error */
  error?: string
  errorDescription?: string
  /** A raw body instead of the OAuth error JSON (e.g. an HTML error page). Sent as text/plain unless `headers` say otherwise. */
  body?: string
  headers?: Record<string, string>
  /** Answer 200 with a truncated JSON body, as a broken proxy might. */
  malformed?: boolean
  /** Drop the connection without an answer (a network error for the client). */
  networkError?: boolean
  /**
   * Echo the request, as some servers do: its credential headers (a Basic header decoded too),
   * its form body and each parameter decoded, in `error_description` and `error_uri`, and in
   * `body` wherever it says `{request}`. For tests that no secret comes out of the client.
   */
  echo?: boolean
}

const DEFAULT_ERROR: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'access_denied',
  503: 'temporarily_unavailable',
}

/** The request as an echoing server quotes it (see `TokenFault.echo`). */
export function echoOf(request: Request, params: URLSearchParams | undefined): string {
  const parts: string[] = []
  for (const name of ['authorization', 'dpop']) {
    const value = request.headers.get(name)
    if (value) parts.push(`${name}: ${value}`)
  }
  const basic = /^basic (.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
  if (basic) {
    const bytes = Uint8Array.from(atob(basic), (c) => c.charCodeAt(0))
    parts.push(`credentials: ${new TextDecoder().decode(bytes)}`)
  }
  if (params) parts.push(`body: ${params}`, ...[...params].map(([name, value]) => `${name}=${value}`))
  return parts.join('; ')
}

/** The response of a fault; `echo` is the request's echo when `fault.echo` is set. */
export function faultResponse(fault: TokenFault, echo?: string): Response {
  if (fault.networkError) return Response.error()
  const status = fault.malformed ? (fault.status ?? 200) : (fault.status ?? 503)
  const noStore = { 'cache-control': 'no-store' }
  if (fault.malformed) {
    return new Response('{"access_token":"trunc', {
      status,
      headers: { 'content-type': 'application/json', ...noStore, ...fault.headers },
    })
  }
  if (fault.body !== undefined) {
    return new Response(echo === undefined ? fault.body : fault.body.replaceAll('{request}', echo), {
      status,
      headers: { 'content-type': 'text/plain;charset=utf-8', ...noStore, ...fault.headers },
    })
  }
  const body = {
    error: fault.error ?? DEFAULT_ERROR[status] ?? 'server_error',
    ...(fault.errorDescription !== undefined && { error_description: fault.errorDescription }),
    ...(echo !== undefined && {
      error_description: `${fault.errorDescription ?? 'the request was'}: ${echo}`,
      error_uri: `https://mock.tokenwell.test/errors?request=${encodeURIComponent(echo)}`,
    }),
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...noStore, ...fault.headers },
  })
}

/** A queue of faults: `failNext(2, a); failNext(1, b)` fails three requests, a, a, b. */
export function createFaultQueue(): {
  add(count: number, fault: TokenFault): void
  take(): TokenFault | undefined
  clear(): void
} {
  const queue: { remaining: number; fault: TokenFault }[] = []
  return {
    add(count, fault) {
      assertDuration('count', count)
      if (count > 0) queue.push({ remaining: Math.floor(count), fault: { ...fault } })
    },
    take() {
      const head = queue[0]
      if (head === undefined) return undefined
      if (--head.remaining <= 0) queue.shift()
      return head.fault
    },
    clear() {
      queue.length = 0
    },
  }
}
