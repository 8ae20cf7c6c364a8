// Loaded on the first getToken({ scope | claims }): it imports nothing of core (see lazy-modules.test.ts)
import type * as Errors from '../errors.js'
import type { StoreEntry } from '../store.js'
import type { Token, TokenData } from '../token.js'

/** The parameters of one `getToken()` call that change the token it asks for. */
export interface CallParams {
  /** The scope to ask for instead of the configured one: sorted, space-delimited, no duplicates. */
  readonly scope?: string
  /** The `claims` request parameter: a JSON object's text. @see OpenID Connect Core 1.0 §5.5 */
  readonly claims?: string
}

/** Tokens for per-call parameters kept at once; the least recently used goes first. */
const CALL_ENTRIES = 16
/** Largest `claims` text accepted, characters. */
const MAX_CLAIMS = 16_384
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/**
 * The checked per-call parameters, or `undefined` when they ask for nothing but the configured
 * token (no claims, and no scope or the configured one). Throws `ConfigError` naming the bad one.
 */
export function callParamsOf(
  scope: unknown,
  claims: unknown,
  configuredScope: string | undefined,
  errors: Pick<typeof Errors, 'ConfigError'>,
): CallParams | undefined {
  const { ConfigError } = errors
  let normalised: string | undefined
  if (scope !== undefined) {
    const list = typeof scope === 'string' ? scope.split(/\s+/) : Array.isArray(scope) ? scope : undefined
    if (!list) throw new ConfigError('getToken: scope must be a string or an array of strings')
    const items = list.filter((item) => item !== '')
    if (!items.every((item) => typeof item === 'string' && SCOPE_TOKEN.test(item)))
      throw new ConfigError(
        'getToken: scope entries must be strings of printable ASCII without spaces, " or \\',
      )
    normalised = [...new Set(items as string[])].sort().join(' ')
    if (normalised === '') throw new ConfigError('getToken: scope must name at least one scope')
  }
  if (claims !== undefined) {
    if (typeof claims !== 'string' || claims.length > MAX_CLAIMS || !isJsonObject(claims))
      throw new ConfigError(
        `getToken: claims must be the text of a JSON object (at most ${MAX_CLAIMS} characters)`,
      )
  }
  const sameScope = normalised === undefined || normalised === sortScope(configuredScope)
  if (sameScope && claims === undefined) return undefined
  return Object.freeze({
    ...(normalised !== undefined && { scope: normalised }),
    ...(claims !== undefined && { claims: claims as string }),
  })
}

const sortScope = (scope: string | undefined) =>
  scope === undefined ? undefined : [...new Set(scope.split(' '))].sort().join(' ')

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

interface CallEntry {
  token?: Token
  refreshAt: number
  pending?: Promise<Token>
}

/**
 * The tokens of per-call parameters: one entry per parameters (a small LRU), each with its own
 * single-flight; local to the provider (no shared store, no refresh ahead). `fetch` asks the
 * token endpoint. A token is handed out until its `refreshAt`, and only for its own parameters.
 */
export function createCallTokens(
  clock: () => number,
  fetch: (params: CallParams) => Promise<StoreEntry>,
  createToken: (data: TokenData) => Token,
) {
  const entries = new Map<string, CallEntry>()

  function touch(key: string, entry: CallEntry): void {
    entries.delete(key)
    entries.set(key, entry)
    if (entries.size <= CALL_ENTRIES) return
    for (const [oldest, old] of entries) {
      // an entry with a request in flight stays until it settles (its callers share it)
      if (old.pending) continue
      entries.delete(oldest)
      if (entries.size <= CALL_ENTRIES) return
    }
  }

  return {
    /** The token for `params`: cached, or the one request in flight for them, or a new one (`force`). */
    get(params: CallParams, force: boolean): Promise<Token> {
      const key = JSON.stringify([params.scope ?? null, params.claims ?? null])
      const known = entries.get(key)
      if (known?.pending) return known.pending // single-flight, forced or not
      if (!force && known?.token && clock() < known.refreshAt) {
        touch(key, known)
        return Promise.resolve(known.token)
      }
      const entry: CallEntry = known ?? { refreshAt: 0 }
      const pending = fetch(params).then(
        (stored) => {
          delete entry.pending
          const token = createToken(stored.token)
          // dropped meanwhile (clear, eviction): the callers get it, the cache does not keep it
          if (entries.get(key) === entry) Object.assign(entry, { token, refreshAt: stored.refreshAt })
          return token
        },
        (error: unknown) => {
          delete entry.pending
          throw error
        },
      )
      entry.pending = pending
      touch(key, entry)
      return pending
    },
    /** Drops the entry holding `accessToken` (compare-and-invalidate); whether one did. */
    drop(accessToken: string): boolean {
      for (const [key, entry] of entries) {
        if (entry.token?.accessToken !== accessToken) continue
        if (entry.pending) delete entry.token
        else entries.delete(key)
        return true
      }
      return false
    },
    /** Forgets every entry; requests in flight still answer their callers. */
    clear(): void {
      entries.clear()
    },
  }
}
