import { ConfigError } from '../errors.js'

/**
 * One rule for which requests get the token: an origin string (`https://api.example.com`), a
 * RegExp tested against the request's **origin** only (`https://api.example.com:8443`, never
 * its path or query, so `?next=https://api.example.com` cannot fool it; anchor it with `^…$`
 * to name whole hosts), or a predicate that receives a copy of the whole URL.
 */
export type UrlMatcher = string | RegExp | ((url: URL) => boolean)

/** Which requests an adapter authorizes: one matcher or a list (any of them matching is enough). */
export type RequestMatch = UrlMatcher | readonly UrlMatcher[]

/** `match` compiled: origins a set decides, RegExps that read the origin, predicates that need the URL. */
export interface CompiledMatch {
  readonly origins: ReadonlySet<string>
  readonly patterns: readonly RegExp[]
  readonly predicates: readonly ((url: URL) => boolean)[]
}

/**
 * Compiles `match`. Throws `ConfigError` for a string that is not a bare http(s) origin (the
 * value is not echoed: a mistyped entry may hold credentials) or an entry of another type.
 */
export function compileMatch(match: RequestMatch): CompiledMatch {
  const list: readonly UrlMatcher[] = Array.isArray(match) ? match : [match as UrlMatcher]
  const origins = new Set<string>()
  const patterns: RegExp[] = []
  const predicates: ((url: URL) => boolean)[] = []
  for (const entry of list) {
    if (typeof entry === 'string') origins.add(parseOrigin(entry))
    else if (entry instanceof RegExp) patterns.push(entry)
    else if (typeof entry === 'function') predicates.push(entry)
    else throw new ConfigError('match must be an origin string, a RegExp, a function, or a list of them')
  }
  return { origins, patterns, predicates }
}

/** Whether a request to `origin` (and, for predicates only, the whole URL `href`) matches. */
export function matches(compiled: CompiledMatch, origin: string, href: () => string): boolean {
  if (compiled.origins.has(origin)) return true
  for (const pattern of compiled.patterns) {
    pattern.lastIndex = 0 // a /g or /y RegExp keeps state between calls
    if (pattern.test(origin)) return true
  }
  for (const predicate of compiled.predicates) if (predicate(new URL(href())) === true) return true
  return false
}

function parseOrigin(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined
  const bare = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password
  if (!bare || (url.protocol !== 'https:' && url.protocol !== 'http:') || /[?#]$/.test(value)) {
    throw new ConfigError(
      'match strings must be origins such as "https://api.example.com" (no path, query or credentials)',
    )
  }
  return url.origin
}
