import type { DpopSession } from '../dpop/dpop.js'
import { ConfigError, InsecureHttpError, TokenRequestError } from '../errors.js'
import { isLoopback } from '../provider/options.js'
import type { TokenProvider } from '../provider/token-provider.js'
import type { Token } from '../token.js'
import { type AuthHeaders, authHeaders, isDpopBound, type RequestTarget } from './auth-headers.js'
import { authorizationHeader } from './authorization-header.js'

/** One rule for which request URLs get the token: an origin string, a RegExp on the URL, or a predicate. */
export type UrlMatcher = string | RegExp | ((url: URL) => boolean)

/** Which requests an adapter authorizes: one matcher or a list (any of them matching is enough). */
export type RequestMatch = UrlMatcher | readonly UrlMatcher[]

/** Options every adapter (axios, got, fetch) accepts, decided here once. */
export interface AuthPolicyOptions {
  /**
   * Which requests get the token. A string is an origin (`https://api.example.com`, no path);
   * a RegExp is tested against the full URL; a function receives the URL. A request that
   * already carries its own `Authorization` header is never touched.
   * @default the origin of the client's base URL (axios `baseURL`, got `prefixUrl`) when it has
   *   one, so an absolute URL to another host never receives the token; otherwise every request
   */
  match?: RequestMatch
  /** Allow putting the token on plain `http:` to a host that is not loopback. @default false */
  allowInsecureHttp?: boolean
}

/** One challenge of a `WWW-Authenticate` header; scheme and parameter names are lowercased. */
export interface AuthChallenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
  readonly token68?: string
}

/** A header value as the HTTP clients hand it over: one string, several, or absent. */
export type HeaderValue = string | readonly string[] | null | undefined

/** Response headers as the HTTP clients hand them over: WHATWG `Headers`, or a record (node, got, axios). */
export type ResponseHeaders = Headers | { readonly [name: string]: unknown }

/** A response to a request the policy authorized, as an adapter sees it. */
export interface AuthResponse {
  /** The URL this response is for (the last one, when the client followed redirects itself). */
  url: string | URL
  status: number
  headers: ResponseHeaders
}

/**
 * What an adapter does with a response to a request it authorized: return it (`none`),
 * invalidate the token and replay with a fresh one (`renew`), or replay with the same token and
 * a new proof carrying the nonce the server demanded (`nonce`). Either replay happens at most
 * once per request.
 */
export type ReplayDecision = 'none' | 'renew' | 'nonce'

/** How long a request waits for its token: the caller's signal and the client's own timeout. */
export interface TokenWait {
  /** Aborts this wait only (rejecting with its reason); the token request others await goes on. */
  signal?: AbortSignal | undefined
  /**
   * The client's request timeout, ms (axios `timeout`, got `timeout.request`); past it the wait
   * rejects with `TokenRequestError`. `0` or absent: no bound beyond the provider's own `timeout`.
   */
  timeout?: number | undefined
}

/** What an adapter asks core: whether to authorize, which token to attach, and what to do after a 401. */
export interface AuthPolicy {
  readonly provider: TokenProvider
  /** Whether a request to `url` gets the token, given the client's base URL (if any). */
  authorizes(url: URL, baseUrl?: string | URL): boolean
  /**
   * Whether `authorizes` and `tokenFor` read nothing of the URL but its origin (no `match`,
   * or origin strings only). An adapter may then pass any URL with the request's origin, such
   * as its parsed base URL, instead of building the whole request URL; a RegExp or predicate
   * in `match` needs the whole URL.
   */
  readonly decidesByOrigin: boolean
  /**
   * The token for a request to `url`. Rejects with `InsecureHttpError` for plain http to a
   * host that is not loopback (unless allowed), with the abort reason if `wait.signal` aborts,
   * and with `TokenRequestError` past `wait.timeout` (the token request others await goes on).
   */
  tokenFor(url: URL, wait?: TokenWait): Promise<Token>
  /**
   * The token `tokenFor(url)` would resolve to at once (the provider's cached, fresh token), or
   * `undefined` when it would have to wait: then call `tokenFor`. Throws `InsecureHttpError`
   * as `tokenFor` rejects. Starts the provider's refresh-ahead as `getToken()` does.
   * @see TokenProvider.peekToken
   */
  peekToken(url: URL): Token | undefined
  /** Whether a response with this status and `WWW-Authenticate` should be replayed with a new token. */
  shouldReplay(status: number, wwwAuthenticate: HeaderValue): boolean
  /**
   * The headers to set on one request for `token`: `authorization`, and for a DPoP-bound token
   * a fresh `dpop` proof for this method and URL. Call it for every send, retry, replay and
   * same-origin redirect (a proof names one request). Rejects with `DpopError` when the token
   * is DPoP-bound and the provider has no DPoP session, or the key cannot sign.
   * @see RFC 9449 §7.1
   */
  headersFor(token: Token, request: RequestTarget): Promise<AuthHeaders>
  /**
   * Reads the response to a request that carried `usedToken` and decides about the one replay.
   * For a DPoP-bound token it first keeps any `DPoP-Nonce` the server sent for the URL's origin
   * (later proofs carry it), then answers `nonce` for a 401 whose `DPoP` challenge says
   * `error="use_dpop_nonce"` with a usable nonce (the token stays valid), `none` for such a
   * challenge without one. Otherwise `renew` for a 401 that `shouldReplay` accepts, else `none`.
   * The adapter keeps the budget: once replayed, whatever comes back goes to the caller.
   * @see RFC 9449 §8.2, §9; RFC 6750 §3.1
   */
  afterResponse(usedToken: Token, response: AuthResponse): ReplayDecision
  /**
   * Whether `afterResponse` has anything to do with a response of `status` to a request that
   * carried `usedToken`: `false` for any status but 401 to a Bearer request (no replay, no
   * nonce to keep), so an adapter can skip working out the response's URL. DPoP-bound tokens
   * always answer `true` (a `DPoP-Nonce` may come with any response).
   */
  wantsResponse(usedToken: Token, status: number): boolean
  /**
   * After a 401 to a request that carried `usedToken`: drops that token if it is still the
   * cached one (compare-and-invalidate) and returns a fresh one. However many requests call
   * this with the same stale token, one token request is made.
   */
  renew(usedToken: Token, wait?: TokenWait): Promise<Token>
  /** `Authorization` header value for `token`. */
  header(token: Token): string
}

/**
 * Creates the policy an adapter translates to its client's hooks: which requests are
 * authorized, the insecure-http refusal, and the one-replay-after-401 decision. Throws
 * `ConfigError` for a bad `match`.
 *
 * @example
 * const policy = createAuthPolicy(provider, { match: 'https://api.example.com' })
 * if (policy.authorizes(url)) headers.set('authorization', policy.header(await policy.tokenFor(url)))
 */
export function createAuthPolicy(provider: TokenProvider, options: AuthPolicyOptions = {}): AuthPolicy {
  if (typeof provider?.getToken !== 'function' || typeof provider.invalidate !== 'function') {
    throw new ConfigError('provider must be a TokenProvider (from createTokenProvider)')
  }
  const match = options.match === undefined ? undefined : compileMatch(options.match)
  const allowInsecureHttp = options.allowInsecureHttp === true
  const baseOrigins = new Map<string, string | null>()
  // a provider written against an older TokenProvider may lack peekToken: it always waits
  const peek = typeof provider.peekToken === 'function' ? () => provider.peekToken() : () => undefined
  return Object.freeze({
    provider,
    authorizes: (url: URL, baseUrl?: string | URL) => decide(url, match, baseUrl, baseOrigins),
    decidesByOrigin:
      options.match === undefined ||
      (Array.isArray(options.match) ? options.match : [options.match]).every((m) => typeof m === 'string'),
    async tokenFor(url: URL, wait: TokenWait = {}) {
      assertSecureTransport(url, allowInsecureHttp)
      return bounded(wait, () => provider.getToken(wait.signal ? { signal: wait.signal } : {}))
    },
    peekToken(url: URL) {
      assertSecureTransport(url, allowInsecureHttp)
      return peek()
    },
    shouldReplay,
    async renew(usedToken: Token, wait: TokenWait = {}) {
      wait.signal?.throwIfAborted()
      await provider.invalidate(usedToken)
      return bounded(wait, () => provider.getToken(wait.signal ? { signal: wait.signal } : {}))
    },
    header: authorizationHeader,
    headersFor: (token: Token, request: RequestTarget) => authHeaders(token, request, provider.dpop),
    afterResponse: (usedToken: Token, response: AuthResponse) =>
      replayDecision(response, isDpopBound(usedToken) ? provider.dpop : undefined),
    wantsResponse: (usedToken: Token, status: number) => status === 401 || isDpopBound(usedToken),
  })
}

/**
 * The decision `AuthPolicy.afterResponse` documents; `dpop` is the session that proved the
 * request (none for a Bearer token), where a `DPoP-Nonce` is remembered.
 * @see RFC 9449 §8.2, §9
 */
function replayDecision(response: AuthResponse, dpop: DpopSession | undefined): ReplayDecision {
  if (dpop === undefined && response.status !== 401) return 'none'
  const wwwAuthenticate = headerOf(response.headers, 'www-authenticate')
  if (dpop !== undefined) {
    const nonce = headerOf(response.headers, 'dpop-nonce')
    const value = typeof nonce === 'string' ? nonce : nonce?.[0]
    dpop.rememberNonce(response.url, value)
    const demanded = parseWwwAuthenticate(wwwAuthenticate).some(
      (c) => c.scheme === 'dpop' && c.params['error'] === 'use_dpop_nonce',
    )
    // a replay without a nonce the session kept would only be refused again
    if (response.status === 401 && demanded)
      return value !== undefined && dpop.nonceFor(response.url) === value ? 'nonce' : 'none'
  }
  return shouldReplay(response.status, wwwAuthenticate) ? 'renew' : 'none'
}

/** One header from `Headers` or a record with names in any case; other values than strings are ignored. */
function headerOf(headers: ResponseHeaders, name: string): string | string[] | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue
    if (typeof value === 'string') return value
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  }
  return undefined
}

function bounded<T>({ timeout }: TokenWait, get: () => Promise<T>): Promise<T> {
  if (timeout === undefined || timeout <= 0 || !Number.isFinite(timeout)) return get()
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TokenRequestError(`no token within the request timeout (${timeout} ms)`)),
      timeout,
    )
    get()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer))
  })
}

/**
 * Compiles `match` into one predicate. Throws `ConfigError` for a string that is not an
 * http(s) origin or an entry of another type.
 */
export function compileMatch(match: RequestMatch): (url: URL) => boolean {
  const list: readonly UrlMatcher[] = Array.isArray(match) ? match : [match as UrlMatcher]
  const tests = list.map((entry): ((url: URL) => boolean) => {
    if (typeof entry === 'string') {
      const origin = parseOrigin(entry)
      return (url) => url.origin === origin
    }
    if (entry instanceof RegExp) {
      return (url) => {
        entry.lastIndex = 0 // a /g or /y RegExp keeps state between calls
        return entry.test(url.href)
      }
    }
    if (typeof entry === 'function') return (url) => entry(new URL(url.href)) === true
    throw new ConfigError('match must be an origin string, a RegExp, a function, or a list of them')
  })
  return (url) => tests.some((test) => test(url))
}

function parseOrigin(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined
  const bare = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password
  if (!bare || (url.protocol !== 'https:' && url.protocol !== 'http:') || /[?#]$/.test(value)) {
    // the value is not echoed: a mistyped entry may hold credentials
    throw new ConfigError(
      'match strings must be origins such as "https://api.example.com" (no path, query or credentials)',
    )
  }
  return url.origin
}

/**
 * Whether a request to `url` gets the token: `match` decides when given; otherwise only the
 * base URL's origin when the client has one; otherwise every request.
 */
export function shouldAuthorize(url: URL, match?: RequestMatch, baseUrl?: string | URL): boolean {
  return decide(url, match === undefined ? undefined : compileMatch(match), baseUrl)
}

function decide(
  url: URL,
  match: ((url: URL) => boolean) | undefined,
  baseUrl: string | URL | undefined,
  baseOrigins?: Map<string, string | null>,
): boolean {
  if (match) return match(url)
  if (baseUrl === undefined || baseUrl === '') return true
  const origin = baseOriginOf(String(baseUrl), baseOrigins)
  return origin !== null && origin === url.origin
}

/** Base URLs whose origins one policy remembers; a client rarely has more than one. */
const MAX_BASE_ORIGINS = 32

/**
 * The origin of a client's base URL, or `null` when it has none. An absolute base URL is
 * parsed once per policy (into `cache`); a relative one (a browser's '/api') is resolved
 * against the page each time. An unparsable one cannot name an origin: nothing is authorized.
 */
function baseOriginOf(baseUrl: string, cache: Map<string, string | null> | undefined): string | null {
  const known = cache?.get(baseUrl)
  if (known !== undefined) return known
  if (URL.canParse(baseUrl)) {
    const origin = new URL(baseUrl).origin
    if (cache) {
      if (cache.size >= MAX_BASE_ORIGINS) cache.clear()
      cache.set(baseUrl, origin)
    }
    return origin
  }
  const page = (globalThis as { location?: { href?: string } }).location?.href
  return URL.canParse(baseUrl, page) ? new URL(baseUrl, page).origin : null
}

/** Throws `InsecureHttpError` for plain `http:` to a host that is not loopback, unless allowed. @see RFC 6750 §5.3 */
export function assertSecureTransport(url: URL, allowInsecureHttp = false): void {
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopback(url))
    throw new InsecureHttpError(url.origin)
}

/**
 * Whether a response should be replayed once with a new token: a 401, unless a challenge says
 * `error="insufficient_scope"` (a new token for the same scope cannot help).
 * @see RFC 6750 §3.1
 */
export function shouldReplay(status: number, wwwAuthenticate: HeaderValue): boolean {
  if (status !== 401) return false
  return !parseWwwAuthenticate(wwwAuthenticate).some((c) => c.params['error'] === 'insufficient_scope')
}

/**
 * Whether a request body can be sent a second time: strings, `URLSearchParams`, `FormData`,
 * `Blob`, `ArrayBuffer` and its views, and plain JSON values can; streams, async iterables and
 * generators cannot (they are consumed by the first send).
 */
export function isReplayableBody(body: unknown): boolean {
  if (body === null || body === undefined || typeof body !== 'object') return true
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return false
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false // a Node stream
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return true
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true
  if (body instanceof URLSearchParams || Array.isArray(body)) return true
  const iterable = body as { [Symbol.asyncIterator]?: unknown; next?: unknown }
  return typeof iterable[Symbol.asyncIterator] !== 'function' && typeof iterable.next !== 'function'
}

// RFC 9110 §5.6.2 tchar, and §11.2 token68
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y

/**
 * Parses a `WWW-Authenticate` header into its challenges: several challenges in one value or
 * in several values, parameters as token or quoted-string (with `\` escapes), or a token68.
 * Scheme and parameter names are lowercased (they are case-insensitive); the first of
 * duplicate parameters wins. Malformed parts are skipped, never thrown.
 * @see RFC 9110 §11.6.1, RFC 9110 §11.2, RFC 6750 §3
 */
export function parseWwwAuthenticate(header: HeaderValue): AuthChallenge[] {
  const text = typeof header === 'string' ? header : header ? header.join(', ') : ''
  const challenges: AuthChallenge[] = []
  let i = 0
  for (;;) {
    i = skip(text, i, ' \t,') // empty list elements are allowed (RFC 9110 §5.6.1)
    if (i >= text.length) return challenges
    const scheme = tokenAt(text, i)
    if (!scheme) {
      i = nextComma(text, i)
      continue
    }
    i += scheme.length
    const params: Record<string, string> = Object.create(null)
    const challenge: { scheme: string; params: Record<string, string>; token68?: string } = {
      scheme: scheme.toLowerCase(),
      params,
    }
    challenges.push(challenge)
    const body = skip(text, i, ' \t')
    if (body === i || body >= text.length || text[body] === ',') {
      i = body
      continue
    }
    i = body
    let param = paramAt(text, i)
    if (!param) {
      TOKEN68.lastIndex = i
      const token68 = TOKEN68.exec(text)?.[0] ?? ''
      const end = skip(text, i + token68.length, ' \t')
      if (token68 && (end >= text.length || text[end] === ',')) challenge.token68 = token68
      i = nextComma(text, end)
      continue
    }
    while (param) {
      params[param.name] ??= param.value
      i = skip(text, param.end, ' \t,')
      param = paramAt(text, i)
    }
  }
}

function skip(text: string, from: number, chars: string): number {
  let i = from
  while (i < text.length && chars.includes(text[i]!)) i++
  return i
}

function tokenAt(text: string, from: number): string {
  let i = from
  while (i < text.length && TCHAR.test(text[i]!)) i++
  return text.slice(from, i)
}

function nextComma(text: string, from: number): number {
  let i = from
  let quoted = false
  for (; i < text.length; i++) {
    const c = text[i]
    if (quoted && c === '\\') i++
    else if (c === '"') quoted = !quoted
    else if (c === ',' && !quoted) break
  }
  return i
}

/** `name BWS "=" BWS ( token / quoted-string )` ending at a comma or the end, or undefined. */
function paramAt(text: string, from: number): { name: string; value: string; end: number } | undefined {
  const name = tokenAt(text, from)
  if (!name) return undefined
  let i = skip(text, from + name.length, ' \t')
  if (text[i] !== '=') return undefined
  i = skip(text, i + 1, ' \t')
  let value = ''
  if (text[i] === '"') {
    for (i++; ; i++) {
      if (i >= text.length) return undefined // unterminated quoted-string
      const c = text[i]!
      if (c === '"') break
      if (c === '\\' && i + 1 < text.length) value += text[++i]
      else value += c
    }
    i++
  } else {
    value = tokenAt(text, i)
    if (!value) return undefined // `abc=` or `abc==` is a token68, not a parameter
    i += value.length
  }
  i = skip(text, i, ' \t')
  if (i < text.length && text[i] !== ',') return undefined
  return { name: name.toLowerCase(), value, end: i }
}
