import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createMockAuthServer, type MockAuthServer, serveFetchHandler } from '@tokenwell/mock-server'
import { now } from './clock.js'

/** The OAuth clients the bench registers: one per library, so the server counts each apart. */
export const BENCH_CLIENTS = [
  'bare',
  'tw-axios',
  'tw-got',
  'tw-fetch',
  'tw-undici',
  'tw-ky',
  'tw-core',
  'axios-auth-refresh',
  'axios-oauth-client',
  'badgateway',
  'hand-written',
] as const
export type BenchClientId = (typeof BENCH_CLIENTS)[number]
export const secretOf = (clientId: string) => `${clientId}-secret`

/** A token request as the server saw it: when it arrived and when the answer left, epoch ms. */
export interface TokenRequestSpan {
  readonly start: number
  readonly end: number
  readonly status: number
  /**
   * When the token it issued expires, on the clock of `start` and `end`: its JWT `exp` is a whole
   * second, so a token of N seconds lives N − 1 to N of them from its arrival.
   */
  readonly expiresAt?: number
}

/** What the scenarios read and change on the servers, in process or across the child-process boundary. */
export interface BenchControl {
  /** Zeroes the counters and empties the token-request log. */
  reset(): Promise<void>
  /** Token requests (POST /token) since the last reset, by client id. */
  tokenRequests(): Promise<Record<string, number>>
  /** Every token request since the last reset, oldest first. */
  tokenSpans(): Promise<TokenRequestSpan[]>
  /** Requests the protected API answered since the last reset, and how many of them were 401s. */
  apiStats(): Promise<{ requests: number; unauthorized: number }>
  /** Every access token issued so far stops working at the API (and at the authorization server). */
  revokeAll(): Promise<void>
  /** Delay, ms, before each token response. */
  setLatency(ms: number): Promise<void>
  /** Lifetime, s, of the access tokens issued from now on. */
  setTokenLifetime(seconds: number): Promise<void>
}

export interface BenchServers {
  /** The authorization server's token endpoint. */
  readonly tokenEndpoint: string
  /** The authorization server's issuer (its base URL). */
  readonly issuer: string
  /** The protected API: `GET ${apiUrl}/data` answers 200 with a small JSON body to a valid token. */
  readonly apiUrl: string
  readonly control: BenchControl
  close(): Promise<void>
}

export interface BenchServerOptions {
  /** Token lifetime, s. @default 3600 */
  tokenLifetime?: number
  /** Delay before each token response, ms. @default 50 */
  latency?: number
}

const BODY = JSON.stringify({
  orders: [
    { id: 'o-1001', status: 'shipped', total: 42.5 },
    { id: 'o-1002', status: 'pending', total: 17 },
  ],
})
const CHALLENGE = 'Bearer realm="bench", error="invalid_token"'

/**
 * Starts, on 127.0.0.1, the mock authorization server of `@tokenwell/mock-server` (ES256 JWTs,
 * client authentication, counters) and a lightweight protected API. The API knows each token
 * the authorization server issued and when, to the millisecond, it expires (receipt time plus
 * `expires_in`): checking a request is one map lookup, so the API costs little next to the
 * clients being measured, and every library meets the same expiry.
 */
export async function startBenchServers(options: BenchServerOptions = {}): Promise<BenchServers> {
  /** access token -> expiry, epoch ms */
  const valid = new Map<string, number>()
  let spans: TokenRequestSpan[] = []
  let auth: MockAuthServer | undefined
  const authServed = await serveFetchHandler(async (request) => {
    const start = now()
    const response = await auth!.handle(request)
    if (new URL(request.url).pathname !== '/token') return response
    let expiresAt: number | undefined
    if (response.ok) {
      const body = (await response.clone().json()) as { access_token: string; expires_in: number }
      valid.set(body.access_token, Date.now() + body.expires_in * 1000)
      const exp = jwtExpiresAt(body.access_token)
      if (exp !== undefined) expiresAt = now() + (exp - Date.now())
    }
    spans.push({ start, end: now(), status: response.status, ...(expiresAt !== undefined && { expiresAt }) })
    return response
  })
  auth = createMockAuthServer({
    issuer: authServed.url,
    clients: BENCH_CLIENTS.map((clientId) => ({ clientId, clientSecret: secretOf(clientId) })),
    tokenLifetime: options.tokenLifetime ?? 3600,
    latency: options.latency ?? 50,
  })

  const api = { requests: 0, unauthorized: 0 }
  const apiServer = createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 66_000, noDelay: true },
    (req: IncomingMessage, res: ServerResponse) => {
      req.resume()
      api.requests++
      const header = req.headers.authorization
      const expiresAt = header?.startsWith('Bearer ') ? valid.get(header.slice(7)) : undefined
      if (expiresAt !== undefined && Date.now() < expiresAt) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
        res.end(BODY)
        return
      }
      api.unauthorized++
      res.writeHead(401, { 'www-authenticate': CHALLENGE, 'content-length': 0 })
      res.end()
    },
  )
  apiServer.maxConnections = Number.POSITIVE_INFINITY
  await new Promise<void>((resolve) =>
    apiServer.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  )
  const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`

  const server = auth
  const control: BenchControl = {
    async reset() {
      server.stats.reset()
      spans = []
      api.requests = api.unauthorized = 0
    },
    async tokenRequests() {
      return { ...server.stats.byClient }
    },
    async tokenSpans() {
      return [...spans]
    },
    async apiStats() {
      return { ...api }
    },
    async revokeAll() {
      server.revokeAll()
      valid.clear()
    },
    async setLatency(ms) {
      server.setLatency(ms)
    },
    async setTokenLifetime(seconds) {
      server.setTokenLifetime(seconds)
    },
  }
  return {
    tokenEndpoint: server.tokenEndpoint,
    issuer: server.issuer,
    apiUrl,
    control,
    async close() {
      await new Promise<void>((resolve) => {
        apiServer.close(() => resolve())
        apiServer.closeAllConnections()
      })
      await authServed.close()
    },
  }
}

/** The `exp` of a JWT, epoch ms; `undefined` for a token that is not one. */
function jwtExpiresAt(token: string): number | undefined {
  try {
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      exp?: unknown
    }
    return typeof exp === 'number' ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}
