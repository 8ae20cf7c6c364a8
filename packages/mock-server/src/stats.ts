/** Counters of an authorization server, for assertions such as "exactly one token request". */
export interface AuthServerStats {
  /** POSTs to the token endpoint, whatever the outcome (faults included). */
  tokenRequests: number
  /** Token requests answered with a token. */
  tokensIssued: number
  /** Spent refresh tokens presented again (reuse detection). @see RFC 9700 §4.14.2 */
  refreshTokenReuse: number
  /** Token requests by `grant_type` (every supported grant starts at 0). */
  readonly byGrant: Record<string, number>
  /** Token requests by the client id they claim (every registered client starts at 0). */
  readonly byClient: Record<string, number>
  /** Token requests refused, by OAuth error code (`fault` for injected faults). */
  readonly byError: Record<string, number>
  authorizeRequests: number
  /** Requests to `/device_authorization`. */
  deviceAuthorizationRequests: number
  introspectionRequests: number
  revocationRequests: number
  /** Zeroes every counter in place and clears the request log. */
  reset(): void
}

/** One token request, as the server saw it; secret parameters show as `[REDACTED]`. */
export interface TokenRequestLogEntry {
  grantType: string | undefined
  clientId: string | undefined
  /** The client-authentication method the request used (whether or not it succeeded). */
  clientAuth: string | undefined
  params: Record<string, string>
  status: number
  /** The OAuth error code of a refused request. */
  error?: string
  /** Epoch ms. */
  at: number
}

/** Form parameters that carry a secret; the log keeps their names, never their values. */
const SECRET_PARAMS = new Set([
  'client_secret',
  'password',
  'refresh_token',
  'code',
  'code_verifier',
  'device_code',
  'client_assertion',
  'assertion',
  'subject_token',
  'actor_token',
  'token',
  'access_token',
])

/** The parameters with secret values replaced. */
export function redactParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of params) out[name] = SECRET_PARAMS.has(name) ? '[REDACTED]' : value
  return out
}

/** Log entries of requests that arrived before a `reset()`: what they do when they end counts no more. */
const beforeReset = new WeakSet<TokenRequestLogEntry>()
/** Whether the request `entry` logs arrived since the stats were last reset (a slow one may end after). */
export const countsNow = (entry: TokenRequestLogEntry): boolean => !beforeReset.has(entry)

/** Stats whose maps start with a zero for every known grant and client. */
export function createAuthServerStats(
  grants: readonly string[],
  clients: readonly string[],
  log: TokenRequestLogEntry[],
): AuthServerStats {
  const zeroed = (keys: readonly string[]) =>
    Object.fromEntries(keys.map((key) => [key, 0])) as Record<string, number>
  const stats: AuthServerStats = {
    tokenRequests: 0,
    tokensIssued: 0,
    refreshTokenReuse: 0,
    byGrant: zeroed(grants),
    byClient: zeroed(clients),
    byError: {},
    authorizeRequests: 0,
    deviceAuthorizationRequests: 0,
    introspectionRequests: 0,
    revocationRequests: 0,
    reset() {
      stats.tokenRequests = stats.tokensIssued = stats.refreshTokenReuse = 0
      stats.authorizeRequests = stats.introspectionRequests = stats.revocationRequests = 0
      stats.deviceAuthorizationRequests = 0
      for (const map of [stats.byGrant, stats.byClient, stats.byError]) for (const key in map) map[key] = 0
      for (const entry of log) beforeReset.add(entry)
      log.length = 0
    },
  }
  return stats
}

/** Adds one to a counter, creating it. */
export function bump(map: Record<string, number>, key: string | undefined): void {
  if (key !== undefined) map[key] = (map[key] ?? 0) + 1
}
