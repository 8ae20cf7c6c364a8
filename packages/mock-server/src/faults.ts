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
}

const DEFAULT_ERROR: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'access_denied',
  503: 'temporarily_unavailable',
}

/** The response of a fault. */
export function faultResponse(fault: TokenFault): Response {
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
    return new Response(fault.body, {
      status,
      headers: { 'content-type': 'text/plain;charset=utf-8', ...noStore, ...fault.headers },
    })
  }
  const body = {
    error: fault.error ?? DEFAULT_ERROR[status] ?? 'server_error',
    ...(fault.errorDescription !== undefined && { error_description: fault.errorDescription }),
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
