import type { DpopSession } from '../dpop/dpop.js'
import type { RevocationResult, RevokeOptions } from '../endpoint/revocation.js'
import { createTokenEndpointClient } from '../endpoint/token-endpoint.js'
import { ConfigError } from '../errors.js'
import { isRepeatable } from '../grants/grants.js'
import { inspectSymbol } from '../redact.js'
import { createToken, type Token } from '../token.js'
import { abortable } from './abortable.js'
import { cacheKeyOf, keyInfoOf } from './cache-key.js'
import type { createCallTokens } from './call-tokens.js'
import { createEmitter, type TokenEventListener, type TokenEventName, type TokenKeyInfo } from './events.js'
import { createInvalidate } from './invalidate.js'
import type { TokenProviderOptions } from './options.js'
import { resolveOptions } from './resolve-options.js'
import { revokeHeld } from './revoke.js'
import { createTokenSource } from './token-source.js'

export interface GetTokenOptions {
  /** Aborts this caller's wait only; a token request other callers await goes on. */
  signal?: AbortSignal
  /** Skip the cache and fetch a new token (joins a fetch already in flight). */
  forceRefresh?: boolean
  /**
   * A token for this scope instead of the configured one (string or array, sent space-delimited):
   * its own cache entry and single-flight, never another scope's token. Unset, or the configured
   * scope: the provider's token. Needs a grant that can be run again (not `refresh_token`,
   * `authorization_code` or the device grant: `ConfigError`). @see RFC 6749 §3.3
   */
  scope?: string | readonly string[]
  /**
   * The `claims` request parameter (the text of a JSON object, as a claims challenge carries
   * it): a token for these claims, cached under its own key as `scope` is.
   * @see OpenID Connect Core 1.0 §5.5
   */
  claims?: string
}

/** Gets, caches and refreshes tokens for one client, grant and audience. */
export interface TokenProvider {
  /**
   * A token that is valid for at least `refreshSkew` ms. Concurrent callers share one token
   * request; a refresh that fails while the cached token has not yet expired returns that token.
   * With `scope` or `claims`: a token for those parameters, from a small per-parameter cache (16
   * entries, least recently used first; local, not in the store, not refreshed ahead), one token
   * request per parameters however many callers wait.
   */
  getToken(options?: GetTokenOptions): Promise<Token>
  /**
   * The cached token when `getToken()` would return it at once, else `undefined` (nothing
   * cached, too close to expiry, or invalidated); never fetches and never throws. It counts as
   * a use, as `getToken()` does: past the refresh-ahead point it starts the same background
   * refresh and returns the cached token. For adapters' hot path: a synchronous check before
   * falling back to `await getToken()`.
   *
   * @example
   * const token = provider.peekToken() ?? (await provider.getToken())
   */
  peekToken(): Token | undefined
  /**
   * Drops the cached token only if it is still `token` (compare-and-invalidate), here and in a
   * shared store, so a storm of 401s carrying one stale token causes one refresh. Never rejects;
   * resolves to whether this call dropped the local copy. Effective at once for `getToken()`.
   */
  invalidate(token: Token | string): Promise<boolean>
  /**
   * Revokes the refresh token, then the access token, at the revocation endpoint (configured
   * `revocationEndpoint`, else discovered), with the client's authentication; then forgets both,
   * here and in the store, so the next `getToken()` asks for a new token. On failure (a typed
   * error) nothing is forgotten, so the call can be repeated. With `{ token }`, revokes that token
   * instead (and forgets it if the provider holds it).
   * @see RFC 7009 §2
   */
  revoke(options?: RevokeOptions): Promise<RevocationResult>
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends TokenEventName>(name: E, listener: TokenEventListener<E>): () => void
  /** The non-secret parts of this provider's cache key (with `issuer`, updated once the endpoint is discovered). */
  readonly keyInfo: TokenKeyInfo
  /**
   * The provider's DPoP key and nonces when `dpop` is on, for adapters to build proofs for API
   * requests (see `DpopSession` for the contract); `undefined` otherwise.
   * @see RFC 9449 §7
   */
  readonly dpop?: DpopSession
  /**
   * Stops background refresh timers, and a device-code poll in progress (its callers get an
   * `AuthorizationError`). The provider still answers `getToken()` after it.
   */
  close(): Promise<void>
}

/**
 * Creates a token provider. Throws `ConfigError` at once for bad options.
 *
 * @example
 * const provider = createTokenProvider({
 *   tokenEndpoint: 'https://auth.example.com/oauth2/token',
 *   clientId: 'svc-a',
 *   clientSecret: process.env.CLIENT_SECRET,
 *   scope: ['orders:read'],
 * })
 * const token = await provider.getToken()
 */
export function createTokenProvider(input: TokenProviderOptions): TokenProvider {
  const options = resolveOptions(input)
  const { clock } = options
  let keyInfo = keyInfoOf(options)
  const emitter = createEmitter(options.logger)
  const instance = Math.random().toString(36).slice(2)
  const client = createTokenEndpointClient(
    options,
    (endpoint) => {
      keyInfo = keyInfoOf(options, endpoint.shownEndpoint ?? endpoint.tokenEndpoint.href)
    },
    () => {
      const token = source.current.get()?.entry.token
      return [token?.accessToken, token?.refreshToken, token?.idToken, source.loop.refreshToken()]
    },
  )
  let keyPromise: Promise<string> | undefined
  const cacheKey = () =>
    (keyPromise ??= (async () => cacheKeyOf(options, instance, await client.dpop?.thumbprint()))())
  /** Ends a device poll's wait; `close()` aborts it and puts a new one in its place. */
  let stopPolling = new AbortController()
  let closed = false
  /** Tokens for per-call parameters, made (and its module loaded) on the first such call. */
  let calls: ReturnType<typeof createCallTokens> | undefined
  const source = createTokenSource({
    options,
    client,
    emitter,
    keyInfo: () => keyInfo,
    cacheKey,
    pollSignal: () => stopPolling.signal,
    closed: () => closed,
  })
  const { current, schedule, peek } = source
  const invalidate = createInvalidate({
    store: options.store,
    source,
    emitter,
    keyInfo: () => keyInfo,
    cacheKey,
    calls: () => calls,
  })

  const provider: TokenProvider = {
    get keyInfo() {
      return keyInfo
    },
    ...(client.dpop && { dpop: client.dpop }),
    async getToken(getOptions: GetTokenOptions = {}) {
      const { signal, forceRefresh = false } = getOptions
      signal?.throwIfAborted()
      if (getOptions.scope !== undefined || getOptions.claims !== undefined) {
        // loaded on first use: most providers only ever ask for their configured scope
        const { callParamsOf, createCallTokens } = await import('./call-tokens.js')
        const call = callParamsOf(getOptions.scope, getOptions.claims, options.scope, { ConfigError })
        if (call !== undefined) {
          if (!isRepeatable(options.grant))
            throw new ConfigError(
              `getToken: scope and claims per call need a grant that can be run again (not ${options.grant.type})`,
            )
          calls ??= createCallTokens(clock, source.obtainFor, createToken)
          return abortable(calls.get(call, forceRefresh), signal)
        }
      }
      const cached = forceRefresh ? undefined : peek()
      if (cached) return cached
      if (forceRefresh) source.forceNext()
      const token = await abortable(source.obtainShared(false), signal)
      const now = current.get()
      if (now?.token === token) now.used = true
      return token
    },
    peekToken: peek,
    invalidate,
    async revoke(revokeOptions = {}) {
      const result = await revokeHeld(revokeOptions, options, client, source, cacheKey, provider.invalidate)
      // revoking what the provider holds also forgets the tokens of getToken({ scope, claims })
      if (revokeOptions.token === undefined) calls?.clear()
      return result
    },
    on: emitter.on,
    async close() {
      closed = true
      schedule.close()
      calls?.clear()
      // a device poll in progress ends too (its callers get this error); a later getToken() polls anew
      stopPolling.abort()
      stopPolling = new AbortController()
    },
  }
  const description = () =>
    `TokenProvider { tokenEndpoint: '${keyInfo.tokenEndpoint}', clientId: '${keyInfo.clientId}' }`
  Object.defineProperties(provider, {
    toJSON: { value: () => ({ ...keyInfo }), enumerable: false },
    [inspectSymbol]: { value: description, enumerable: false },
  })
  return Object.freeze(provider)
}
