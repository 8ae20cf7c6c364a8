import type { AccessTokenClaims } from './access-token-verifier.js'
import { senderConstraintHolds } from './protected-api-binding.js'
import { STEP_UP_PATHS, stepUpChallenge } from './protected-api-challenges.js'
import { dpopCredentials } from './protected-api-dpop.js'
import { bearerToken, type Challenge, challengeHeader, echo } from './protected-api-http.js'
import {
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
  resourceMetadataUrl,
} from './protected-resource-metadata.js'
import { delay } from './state.js'

export interface ProtectedApiOptions extends ProtectedResourceMetadataOptions {
  /** Whatever verifies the tokens: a mock authorization server, or any object with `verifyAccessToken`. */
  authServer: { verifyAccessToken(token: string): Promise<AccessTokenClaims | undefined>; issuer?: string }
  /** A scope every route requires; a token without it gets 403 `insufficient_scope`. @default none */
  requiredScope?: string
  /** An `aud` value tokens must carry. @default not checked */
  audience?: string
  /** The `realm` of the `WWW-Authenticate` challenge. @default 'tokenwell-mock-api' */
  realm?: string
  /** DPoP requests must carry the API's nonce (401 `use_dpop_nonce` + `DPoP-Nonce` otherwise). @default false @see RFC 9449 §9 */
  dpopNonce?: boolean
}

/** One request the protected API received. It never holds the token, only whether one was sent. */
export interface ProtectedApiLogEntry {
  method: string
  path: string
  /** Whether the request carried an `Authorization` header. */
  authorization: boolean
  /** Whether the request carried a `DPoP` proof header. */
  dpop: boolean
  /** The `jti` of a valid token. */
  tokenId?: string
  status: number
  /** Epoch ms. */
  at: number
}

export interface ProtectedApiStats {
  requests: number
  /** Requests answered with 401. */
  unauthorized: number
  /** Requests by path (without the query). */
  readonly byPath: Record<string, number>
  /** Zeroes the counters in place and clears the request log. */
  reset(): void
}

/** An injected failure of the protected API; a 401 carries an `invalid_token` challenge unless `headers` give one. */
export interface ApiFault {
  /** @default 401 */
  status?: number
  body?: string
  headers?: Record<string, string>
}

/** A protected resource server as one fetch-style function. */
export interface ProtectedApi {
  handle(request: Request): Promise<Response>
  readonly stats: ProtectedApiStats
  readonly requests: readonly ProtectedApiLogEntry[]
  /** The next `count` requests (to any route) fail as `fault` says, after the token check. */
  failNext(count: number, fault?: ApiFault): void
}

/**
 * Creates a protected API that accepts the mock authorization server's tokens and challenges
 * anything else with a `WWW-Authenticate: Bearer` header. Routes:
 * - any method `/echo…`: 200 JSON `{ method, path, query, contentType, bodyBase64, authorized: true, … }`
 * - `/always-401`: always 401 `invalid_token`
 * - `/insufficient-scope[?scope=…]`: 401 `insufficient_scope` (for the adapter contract: no replay)
 * - `/redirect?to=URL[&status=302]`: a redirect, after the token check
 * - `/slow?ms=N`: the echo after N ms
 * - `/public/…`: the echo without a token check (a redirect target that records what it got)
 * - `/step-up/scope`, `/step-up/claims`, `/step-up/authentication`: challenges a token must
 *   satisfy (see `stepUpChallenge`), then the echo
 * - GET `/.well-known/oauth-protected-resource[/path]`: RFC 9728 metadata for the resource at
 *   that path, naming `authorizationServers`
 *
 * A missing token gets a challenge without an error code, a bad one `invalid_token`, a token lacking
 * `requiredScope` 403 `insufficient_scope`. Verification is cached per token string by the auth server.
 * @see RFC 6750 §3, §3.1
 */
export function createProtectedApi(options: ProtectedApiOptions): ProtectedApi {
  const realm = options.realm ?? 'tokenwell-mock-api'
  const log: ProtectedApiLogEntry[] = []
  const faults: { remaining: number; fault: ApiFault }[] = []
  const stats: ProtectedApiStats = {
    requests: 0,
    unauthorized: 0,
    byPath: {},
    reset() {
      stats.requests = stats.unauthorized = 0
      for (const key in stats.byPath) stats.byPath[key] = 0
      log.length = 0
    },
  }
  let origin = ''
  const challenge = (status: number, value: Challenge, extra: Record<string, string> = {}) => {
    // RFC 9728 §5.1: a 401 tells the client where the resource's metadata is
    const metadataParam =
      options.advertiseResourceMetadata === true && status === 401
        ? { resource_metadata: resourceMetadataUrl(origin, options.resourcePath ?? '') }
        : {}
    value = { ...value, params: { ...value.params, ...metadataParam } }
    return Response.json(
      {
        error: value.error ?? 'unauthorized',
        ...(value.description !== undefined && { error_description: value.description }),
      },
      {
        status,
        headers: { 'www-authenticate': challengeHeader(realm, value), 'cache-control': 'no-store', ...extra },
      },
    )
  }

  async function route(request: Request, url: URL, entry: ProtectedApiLogEntry): Promise<Response> {
    const path = url.pathname
    origin = url.origin
    if (path === '/public' || path.startsWith('/public/')) return echo(request, url, undefined)
    const metadata =
      request.method === 'GET' ? protectedResourceMetadata(url, options, options.authServer) : undefined
    if (metadata !== undefined) return metadata
    if (path === '/always-401')
      return challenge(401, { error: 'invalid_token', description: 'this route always refuses' })
    const known =
      path.startsWith('/echo') ||
      ['/insufficient-scope', '/redirect', '/slow'].includes(path) ||
      STEP_UP_PATHS.includes(path)
    if (!known) return Response.json({ error: 'not_found' }, { status: 404 })

    // RFC 9449 §7: `Authorization: DPoP` with a proof; a DPoP-bound token sent as Bearer is refused
    const dpop = await dpopCredentials(request, stats, {
      realm,
      dpopNonce: options.dpopNonce === true,
      verifyAccessToken: (token) => options.authServer.verifyAccessToken(token),
    })
    if (dpop instanceof Response) return dpop
    const token = dpop === undefined ? bearerToken(request.headers.get('authorization')) : ''
    if (token === undefined) return challenge(401, {}) // RFC 6750 §3.1: no error code without credentials
    if (token === null)
      return challenge(400, { error: 'invalid_request', description: 'malformed Bearer credentials' })
    const claims = dpop ?? (await options.authServer.verifyAccessToken(token))
    const audOk = options.audience === undefined || [claims?.aud].flat().includes(options.audience)
    if (claims === undefined || !audOk || !senderConstraintHolds(claims, request, dpop !== undefined)) {
      return challenge(401, {
        error: 'invalid_token',
        description: 'the access token is invalid, expired or revoked',
      })
    }
    entry.tokenId = claims.jti
    const scopes = (claims.scope ?? '').split(' ')
    if (options.requiredScope !== undefined && !scopes.includes(options.requiredScope)) {
      return challenge(403, { error: 'insufficient_scope', scope: options.requiredScope })
    }
    const head = faults[0]
    if (head !== undefined) {
      if (--head.remaining <= 0) faults.shift()
      const { status = 401, body, headers } = head.fault
      if (status === 401 && body === undefined) return challenge(401, { error: 'invalid_token' }, headers)
      return new Response(body ?? null, { status, headers: { 'content-type': 'text/plain', ...headers } })
    }
    const stepUp = stepUpChallenge(
      path,
      url,
      claims,
      (status, params) => {
        const { error, error_description: description, scope, ...rest } = params
        return challenge(status, {
          ...(error !== undefined && { error }),
          ...(description !== undefined && { description }),
          ...(scope !== undefined && { scope }),
          params: rest,
        })
      },
      Date.now(),
    )
    if (stepUp !== undefined) return stepUp
    if (path === '/insufficient-scope') {
      const scope = url.searchParams.get('scope') ?? options.requiredScope ?? 'admin'
      return challenge(401, { error: 'insufficient_scope', scope })
    }
    if (path === '/redirect') {
      const to = url.searchParams.get('to')
      if (to === null) return Response.json({ error: 'missing to' }, { status: 400 })
      const status = Number(url.searchParams.get('status') ?? 302)
      return new Response(null, { status, headers: { location: new URL(to, url).href } })
    }
    if (path === '/slow') await delay(Math.max(0, Number(url.searchParams.get('ms')) || 0))
    return echo(request, url, claims)
  }

  return {
    async handle(request) {
      const url = new URL(request.url)
      stats.requests++
      stats.byPath[url.pathname] = (stats.byPath[url.pathname] ?? 0) + 1
      const entry: ProtectedApiLogEntry = {
        method: request.method,
        path: url.pathname,
        authorization: request.headers.has('authorization'),
        dpop: request.headers.has('dpop'),
        status: 0,
        at: Date.now(),
      }
      log.push(entry)
      const response = await route(request, url, entry)
      entry.status = response.status
      if (response.status === 401) stats.unauthorized++
      return response
    },
    stats,
    requests: log,
    failNext(count, fault = {}) {
      if (count > 0) faults.push({ remaining: Math.floor(count), fault: { ...fault } })
    },
  }
}
