import type { TokenFault } from './faults.js'
import type { AuthServerStats, TokenRequestLogEntry } from './stats.js'

/** The knobs of a mock authorization server that the control actions turn (its own type would be an import cycle). */
export interface ControlTarget {
  readonly stats: AuthServerStats
  readonly requests: readonly TokenRequestLogEntry[]
  failNext(count: number, fault?: TokenFault): void
  clearFaults(): void
  setLatency(ms: number): void
  setTokenLifetime(seconds: number): void
  revokeAll(): void
  approveDevice(userCode: string, options?: { username?: string }): boolean
  denyDevice(userCode: string): boolean
}

/** The path, under the issuer, that the control actions live at. */
export const CONTROL_PATH = '/_control'

/** What `reset` goes back to: the server's options as it was created. */
export interface ControlDefaults {
  latency: number
  tokenLifetime: number
}

type Action = (server: ControlTarget, body: Record<string, unknown>, defaults: ControlDefaults) => unknown

/** `METHOD /path` → what it does; the answer is its JSON result, or the stats. */
const ACTIONS: Record<string, Action> = {
  'GET /stats': () => undefined,
  'POST /revoke-all': (server) => server.revokeAll(),
  'POST /faults': (server, body) => {
    const { count = 1, ...fault } = body
    server.failNext(count as number, fault as TokenFault)
  },
  'DELETE /faults': (server) => server.clearFaults(),
  'PUT /latency': (server, body) => server.setLatency(body['ms'] as number),
  'PUT /token-lifetime': (server, body) => server.setTokenLifetime(body['seconds'] as number),
  'POST /devices/approve': (server, body) => ({
    approved: server.approveDevice(String(body['userCode']), {
      ...(typeof body['username'] === 'string' && { username: body['username'] }),
    }),
  }),
  'POST /devices/deny': (server, body) => ({ denied: server.denyDevice(String(body['userCode'])) }),
  'POST /reset': (server, _body, defaults) => {
    server.stats.reset()
    server.clearFaults()
    server.setLatency(defaults.latency)
    server.setTokenLifetime(defaults.tokenLifetime)
  },
}

/** `http(s)://` on 127.0.0.0/8, `localhost` or `[::1]`, any port. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const { protocol, hostname } = new URL(origin)
    return (
      (protocol === 'http:' || protocol === 'https:') &&
      (hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname))
    )
  } catch {
    return false
  }
}

function json(body: unknown, status: number, cors: Record<string, string>): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors },
  })
}

/**
 * The server's knobs over HTTP, so a browser page or another process can drive it:
 * `GET stats`, `POST revoke-all`, `POST faults` (a `TokenFault` plus `count`), `DELETE faults`,
 * `PUT latency` (`{ ms }`), `PUT token-lifetime` (`{ seconds }`), `POST devices/approve|deny`
 * (`{ userCode, username? }`) and `POST reset` (counters, log and faults cleared, latency and
 * lifetime back to the options), each under `${issuer}/_control/`. Bodies are JSON.
 *
 * CORS admits pages on any loopback origin; a request from any other origin is refused (403),
 * so a web page the tester happens to open cannot revoke or fault this server.
 */
export async function handleControl(
  server: ControlTarget,
  defaults: ControlDefaults,
  request: Request,
  path: string,
): Promise<Response> {
  const origin = request.headers.get('origin')
  if (origin !== null && !isLoopbackOrigin(origin)) {
    return json(
      { error: 'access_denied', error_description: 'control is for loopback origins only' },
      403,
      {},
    )
  }
  const cors: Record<string, string> =
    origin === null ? {} : { 'access-control-allow-origin': origin, vary: 'Origin' }
  if (request.method === 'OPTIONS') {
    return new Response(null, {
      status: 204,
      headers: {
        ...cors,
        'access-control-allow-methods': 'GET, POST, PUT, DELETE',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
      },
    })
  }
  const action = ACTIONS[`${request.method} ${path}`]
  if (action === undefined) {
    const known = Object.keys(ACTIONS).join(', ')
    return json(
      { error: 'invalid_request', error_description: `no control action here; try ${known}` },
      404,
      cors,
    )
  }
  let body: Record<string, unknown> = {}
  const text = await request.text()
  if (text !== '') {
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError()
      body = parsed as Record<string, unknown>
    } catch {
      return json(
        { error: 'invalid_request', error_description: 'the body must be a JSON object' },
        400,
        cors,
      )
    }
  }
  try {
    const result = action(server, body, defaults)
    return json(result ?? { stats: server.stats, requests: server.requests }, 200, cors)
  } catch (error) {
    const description = error instanceof Error ? error.message.slice(0, 200) : 'bad value'
    return json({ error: 'invalid_request', error_description: description }, 400, cors)
  }
}
