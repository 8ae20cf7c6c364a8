import { sha256Hex } from '../crypto/hash.js'
import type { DpopSession } from '../dpop/dpop.js'
import type { RevocationContext, RevocationResult, RevokeOptions } from '../endpoint/revocation.js'
import { createTokenEndpointClient } from '../endpoint/token-endpoint.js'
import { ConfigError } from '../errors.js'
import { isRepeatable } from '../grants/grants.js'
import { inspectSymbol } from '../redact.js'
import type { StoreEntry } from '../store.js'
import { createToken, type Token } from '../token.js'
import { abortable } from './abortable.js'
import { createAttemptLoop } from './attempt-loop.js'
import { cacheKeyOf, keyInfoOf } from './cache-key.js'
import type { CallParams, createCallTokens } from './call-tokens.js'
import { createCurrentToken } from './current-token.js'
import { createEmitter, type TokenEventListener, type TokenEventName, type TokenKeyInfo } from './events.js'
import { resolveOptions, type TokenProviderOptions } from './options.js'
import { createRefreshSchedule } from './refresh-schedule.js'
import { createStoreCoordination, type StoreCall } from './store-coordination.js'

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
  const { clock, store } = options
  let keyInfo = keyInfoOf(options)
  const emitter = createEmitter(options.logger)
  const instance = Math.random().toString(36).slice(2)
  const client = createTokenEndpointClient(options, (endpoint) => {
    keyInfo = keyInfoOf(options, endpoint.tokenEndpoint)
  })
  let keyPromise: Promise<string> | undefined
  const cacheKey = () =>
    (keyPromise ??= (async () => cacheKeyOf(options, instance, await client.dpop?.thumbprint()))())
  /** Ends a device poll's wait; `close()` aborts it and puts a new one in its place. */
  let stopPolling = new AbortController()
  let lastFailure: { error: unknown; at: number } | undefined
  let forceNext = false

  const current = createCurrentToken(clock, options.refreshSkew, options.refreshAhead)
  /** Tokens for per-call parameters, made (and its module loaded) on the first such call. */
  let calls: ReturnType<typeof createCallTokens> | undefined
  const schedule = createRefreshSchedule(clock, () => obtainShared(true))
  const storeCall: StoreCall = async (operation, call) => {
    try {
      return await call()
    } catch (error) {
      emitter.emit('store-error', { key: keyInfo, operation, error })
      return undefined
    }
  }
  const loop = createAttemptLoop(
    options,
    client,
    {
      keyInfo: () => keyInfo,
      emitTokenError: (event) => emitter.emit('token-error', { key: keyInfo, ...event }),
      async onLateEntry(entry) {
        // a refresh answered after its callers stopped waiting: its token is adopted, not lost
        const key = await cacheKey()
        await coordination.write(key, entry)
        const newer = entry.obtainedAt > (current.get()?.entry.obtainedAt ?? Number.NEGATIVE_INFINITY)
        if (newer) announce(adopt(entry), entry, 'endpoint', entry.obtainedAt, true)
      },
    },
    () => stopPolling.signal,
  )
  const coordination = createStoreCoordination(options, storeCall, {
    usable: current.usable,
    async beforeFetch(key) {
      // another process may have rotated the refresh token since we last read the store
      const read = store.getRefreshToken?.bind(store)
      if (read) loop.offerRefreshToken(await storeCall('getRefreshToken', () => read(key)))
    },
    redeems: loop.redeems,
    restarts: isRepeatable(options.grant),
    redeeming: loop.redeeming,
    doubt: loop.doubt,
    idle: () => loop.redemptions.idle(),
  })

  function adopt(entry: StoreEntry): Token {
    const adopted = current.adopt(entry)
    loop.adoptRefreshToken(adopted.token.refreshToken)
    lastFailure = undefined
    schedule.succeeded()
    scheduleAhead()
    return adopted.token
  }

  function scheduleAhead(): void {
    const cached = current.get()
    if (!options.refreshAhead || closed || !cached) {
      schedule.cancel()
      return
    }
    schedule.at(cached.schedule.aheadAt, () => cached.used && current.get() === cached)
  }

  /**
   * One token request at a time per provider (rule 1): callers while one is in flight share its
   * promise; the `background` flag of the first caller wins. Nothing is kept once it settles.
   */
  let inFlight: Promise<Token> | undefined
  const obtainShared = (background: boolean): Promise<Token> =>
    (inFlight ??= obtain(background).finally(() => {
      inFlight = undefined
    }))

  async function obtain(background: boolean): Promise<Token> {
    const force = forceNext
    forceNext = false
    const key = await cacheKey()
    const failure = lastFailure
    if (failure && clock() - failure.at < options.failureCooldown) return stillValid(failure.error, false)
    const started = clock()
    if (!force) {
      const entry = await storeCall('get', () => store.get(key))
      if (current.usable(entry, background)) return announce(adopt(entry), entry, 'store', started, false)
    }
    try {
      const { entry, source } = await coordination.obtain(key, force, background, loop.fetchEntry)
      return announce(adopt(entry), entry, source, started, source === 'endpoint' && background)
    } catch (error) {
      lastFailure = { error, at: clock() }
      return stillValid(error, true)
    }
  }

  /** A token for per-call parameters: from the grant, with the attempt loop's retries. */
  async function obtainFor(call: CallParams): Promise<StoreEntry> {
    const started = clock()
    const entry = await loop.fetchEntry(call)
    const key = { ...keyInfo, ...(call.scope !== undefined && { scope: call.scope }) }
    const expiresAt = entry.token.expiresAt ?? entry.refreshAt
    emitter.emit('token', {
      key,
      source: 'endpoint',
      durationMs: clock() - started,
      expiresAt,
      background: false,
    })
    return entry
  }

  /** Stale-while-valid: the cached token is returned until its hard margin before expiry. */
  function stillValid(error: unknown, report: boolean): Token {
    const cached = current.stillValid()
    if (!cached) throw error
    if (report) {
      const expiresAt = cached.token.expiresAt ?? cached.entry.refreshAt
      emitter.emit('refresh-failed', { key: keyInfo, error: error as Error, expiresAt })
      cached.schedule.aheadAt = schedule.failed()
      scheduleAhead()
    }
    return cached.token
  }

  function announce(
    token: Token,
    entry: StoreEntry,
    source: 'store' | 'endpoint',
    started: number,
    background: boolean,
  ) {
    const expiresAt = token.expiresAt ?? entry.refreshAt
    emitter.emit('token', { key: keyInfo, source, durationMs: clock() - started, expiresAt, background })
    return token
  }

  /** The cached token while it may be served, marked as used; starts the refresh ahead when due. */
  function peek(): Token | undefined {
    const hit = current.peek()
    if (hit?.due && options.refreshAhead) schedule.run()
    return hit?.token
  }

  let closed = false
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
          calls ??= createCallTokens(clock, obtainFor, createToken)
          return abortable(calls.get(call, forceRefresh), signal)
        }
      }
      const cached = forceRefresh ? undefined : peek()
      if (cached) return cached
      if (forceRefresh) forceNext = true
      const token = await abortable(obtainShared(false), signal)
      const now = current.get()
      if (now?.token === token) now.used = true
      return token
    },
    peekToken: peek,
    async invalidate(token) {
      const accessToken = typeof token === 'string' ? token : token?.accessToken
      if (typeof accessToken !== 'string') return false
      if (calls?.drop(accessToken)) return true
      const dropped = current.drop(accessToken)
      if (dropped) {
        schedule.cancel()
        emitter.emit('invalidated', { key: keyInfo })
      }
      // a 401 storm hands in the same stale token hundreds of times: the shared store is asked once
      if (!current.remember(accessToken)) return dropped
      const key = await cacheKey()
      const fingerprint = await sha256Hex(accessToken)
      if (store.compareAndDelete) {
        const compareAndDelete = store.compareAndDelete.bind(store)
        await storeCall('compareAndDelete', () => compareAndDelete(key, fingerprint))
      } else {
        const entry = await storeCall('get', () => store.get(key))
        if (entry?.fingerprint === fingerprint) await storeCall('delete', () => store.delete(key))
      }
      return dropped
    },
    async revoke(revokeOptions = {}) {
      // from @tokenwell/core/revocation: most providers never revoke, and bundle none of it
      const plugin = options.revocation as
        | { revoke: (o: RevokeOptions, c: RevocationContext) => Promise<RevocationResult> }
        | undefined
      if (!plugin) throw new ConfigError('revoke() needs revocation from @tokenwell/core/revocation')
      const key = await cacheKey()
      const result = await plugin.revoke(revokeOptions, {
        options,
        client,
        async held() {
          const stored = current.get()?.entry ?? (await storeCall('get', () => store.get(key)))
          return {
            accessToken: stored?.token.accessToken,
            refreshToken: loop.refreshToken() ?? stored?.token.refreshToken,
          }
        },
        invalidate: provider.invalidate,
        async forgetRefreshToken(refreshToken) {
          loop.revoked(refreshToken)
          await storeCall('delete', () => store.delete(key))
        },
      })
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
