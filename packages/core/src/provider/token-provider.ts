import pMemoize from 'p-memoize'
import { sha256Hex } from '../crypto/hash.js'
import type { DpopSession } from '../dpop/dpop.js'
import { isRetryable, retryDelay } from '../endpoint/retry.js'
import type { RevocationResult, RevokeOptions } from '../endpoint/revocation.js'
import { createTokenEndpointClient } from '../endpoint/token-endpoint.js'
import { readJsonObject, sendRequest } from '../endpoint/token-request.js'
import { AuthorizationError, ConfigError, OAuthError } from '../errors.js'
import type { DevicePoll } from '../flows/device-poll.js'
import { grantParams, isOneTime, isRepeatable } from '../grants/grants.js'
import { inspectSymbol } from '../redact.js'
import { rememberForm } from '../redaction/scrub.js'
import type { StoreEntry } from '../store.js'
import { createToken, type Token, tokenToData } from '../token.js'
import { abortable } from './abortable.js'
import { cacheKeyOf, keyInfoOf } from './cache-key.js'
import { createEmitter, type TokenEventListener, type TokenEventName, type TokenKeyInfo } from './events.js'
import { refreshAheadAtFor, refreshAtFor } from './expiry.js'
import { parseEndpoint, resolveOptions, type TokenProviderOptions } from './options.js'

export interface GetTokenOptions {
  /** Aborts this caller's wait only; a token request other callers await goes on. */
  signal?: AbortSignal
  /** Skip the cache and fetch a new token (joins a fetch already in flight). */
  forceRefresh?: boolean
}

/** Gets, caches and refreshes tokens for one client, grant and audience. */
export interface TokenProvider {
  /**
   * A token that is valid for at least `refreshSkew` ms. Concurrent callers share one token
   * request; a refresh that fails while the cached token has not yet expired returns that token.
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

interface Current {
  token: Token
  entry: StoreEntry
  /** When a background refresh should start, epoch ms. */
  aheadAt: number
  /** Whether a caller has used this token (an idle provider is not refreshed ahead). */
  used: boolean
}

/** Tokens invalidated recently: a shared store that has not yet caught up must not hand them back. */
const INVALIDATED_MEMORY = 16
/** Background refresh retries after a failure: 1 s, 2 s, 4 s … capped here (ms). */
const MAX_AHEAD_BACKOFF = 30_000
/** setTimeout's largest delay (about 24.8 days). */
const MAX_TIMER = 2 ** 31 - 1

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
  /** An authorization or device code is exchanged once; it is never sent again (RFC 6749 §4.1.2, RFC 8628 §3.5). */
  let codeSpent = false
  /** The device code grant's poll loop, loaded on its first use (only device-code providers need it). */
  let devicePoll: Promise<DevicePoll> | undefined
  /** Ends a device poll's wait; `close()` aborts it and puts a new one in its place. */
  let stopPolling = new AbortController()

  let current: Current | undefined
  /** The newest refresh token held; survives invalidation and failed refreshes. */
  let refreshToken: string | undefined =
    options.grant.type === 'refresh_token' ? options.grant.refreshToken : undefined
  const invalidated: string[] = []
  /** Refresh tokens this provider rotated away from (RFC 6749 §10.4: the server may reject them). */
  const spentRefreshTokens: string[] = []
  let lastFailure: { error: unknown; at: number } | undefined
  let forceNext = false
  let aheadFailures = 0
  let aheadTimer: ReturnType<typeof setTimeout> | undefined
  let backgroundRunning = false

  async function storeCall<T>(operation: string, call: () => Promise<T> | undefined): Promise<T | undefined> {
    try {
      return await call()
    } catch (error) {
      emitter.emit('store-error', { key: keyInfo, operation, error })
      return undefined
    }
  }

  function usable(entry: StoreEntry | undefined, background: boolean): entry is StoreEntry {
    if (!entry || clock() >= entry.refreshAt || invalidated.includes(entry.token.accessToken)) return false
    // a background refresh wants a token newer than the one it is replacing
    return !background || entry.obtainedAt > (current?.entry.obtainedAt ?? Number.NEGATIVE_INFINITY)
  }

  function adopt(entry: StoreEntry): Token {
    const token = createToken(entry.token)
    const expiresAt = token.expiresAt ?? entry.refreshAt
    const aheadAt = refreshAheadAtFor(entry.obtainedAt, expiresAt, entry.refreshAt, Math.random())
    current = { token, entry, aheadAt, used: false }
    if (token.refreshToken !== undefined) refreshToken = token.refreshToken
    lastFailure = undefined
    aheadFailures = 0
    scheduleAhead()
    return token
  }

  function scheduleAhead(): void {
    clearTimeout(aheadTimer)
    aheadTimer = undefined
    if (!options.refreshAhead || closed || !current) return
    const delay = Math.min(MAX_TIMER, Math.max(0, current.aheadAt - clock()))
    aheadTimer = setTimeout(() => {
      if (current?.used) refreshInBackground()
    }, delay)
    // a pending refresh must not keep a CLI or a test process alive
    ;(aheadTimer as { unref?: () => void }).unref?.()
  }

  function refreshInBackground(): void {
    if (backgroundRunning) return
    backgroundRunning = true
    obtainShared(true)
      .catch(() => {})
      .finally(() => {
        backgroundRunning = false
      })
  }

  /** One token request at a time per provider; the `background` flag of the first caller wins. */
  const obtainShared = pMemoize((background: boolean) => obtain(background), {
    cache: false,
    cacheKey: () => '',
  })

  async function obtain(background: boolean): Promise<Token> {
    const force = forceNext
    forceNext = false
    const key = await cacheKey()
    const failure = lastFailure
    if (failure && clock() - failure.at < options.failureCooldown) return stillValid(failure.error, false)
    if (!force) {
      const entry = await storeCall('get', () => store.get(key))
      if (usable(entry, background)) return fromStore(entry, clock())
    }
    try {
      return await obtainWithLease(key, force, background)
    } catch (error) {
      lastFailure = { error, at: clock() }
      return stillValid(error, true)
    }
  }

  /** Stale-while-valid: the cached token is returned while it has not actually expired. */
  function stillValid(error: unknown, report: boolean): Token {
    const cached = current
    const expiresAt = cached?.token.expiresAt ?? 0
    if (!cached || clock() >= expiresAt) throw error
    if (report) {
      emitter.emit('refresh-failed', { key: keyInfo, error: error as Error, expiresAt })
      aheadFailures++
      const backoff = Math.min(MAX_AHEAD_BACKOFF, 1_000 * 2 ** (aheadFailures - 1))
      cached.aheadAt = clock() + backoff * (0.5 + Math.random() / 2)
      scheduleAhead()
    }
    return cached.token
  }

  function fromStore(entry: StoreEntry, started: number): Token {
    return announce(adopt(entry), entry, 'store', started, false)
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

  async function obtainWithLease(key: string, force: boolean, background: boolean): Promise<Token> {
    const started = clock()
    // a waiter outlives one holder that died: that lease expires after lockTtl and a waiter takes over
    const deadline = started + 2 * options.lockTtl
    let release: (() => Promise<void>) | undefined
    const acquire = store.acquireLease?.bind(store)
    const wait = store.waitForEntry?.bind(store)
    while (acquire) {
      const lease = await storeCall('acquireLease', () =>
        acquire(key, options.lockTtl).then((r) => r ?? null),
      )
      if (lease === null) {
        // another process is fetching: wait for its token rather than ask the server again
        const timeout = Math.min(options.lockTtl, deadline - clock())
        if (!wait || timeout <= 0) break
        const entry = await storeCall('waitForEntry', () => wait(key, timeout, (e) => usable(e, background)))
        if (usable(entry, background)) return fromStore(entry, started)
        // no token, and the lease is free again (its holder failed or died): try to take it
        if (clock() < deadline) continue
      } else if (lease) {
        release = lease
        if (!force) {
          // it may have been stored between our read and the lease
          const entry = await storeCall('get', () => store.get(key))
          if (usable(entry, background)) {
            await storeCall('release', release)
            return fromStore(entry, started)
          }
        }
        await adoptSharedRefreshToken(key)
      }
      break
    }
    try {
      const entry = await fetchEntry()
      await storeCall('set', () =>
        store.set(key, entry, Math.max(1, (entry.token.expiresAt ?? entry.refreshAt) - clock())),
      )
      return announce(adopt(entry), entry, 'endpoint', started, background)
    } finally {
      if (release) await storeCall('release', release)
    }
  }

  /** Another process may have rotated the refresh token since we last read the store: ours may be spent. */
  async function adoptSharedRefreshToken(key: string): Promise<void> {
    const read = store.getRefreshToken?.bind(store)
    const shared = read && (await storeCall('getRefreshToken', () => read(key)))
    const newer = typeof shared === 'string' && shared !== '' && !spentRefreshTokens.includes(shared)
    if (newer) refreshToken = shared
  }

  /** Asks the token endpoint, with retries, and returns the store entry for the answer. */
  async function fetchEntry(): Promise<StoreEntry> {
    let deadline = clock() + options.retry.deadline
    let attempt = 0
    // the server answered a device poll: a later failure is a new outage with its own retries
    const onPollAnswer = () => {
      attempt = 1
      deadline = clock() + options.retry.deadline
    }
    for (;;) {
      attempt++
      const usedRefreshToken = refreshToken
      try {
        if (codeSpent && usedRefreshToken === undefined) {
          const code = options.grant.type === 'authorization_code' ? 'authorization' : 'device'
          throw new AuthorizationError(
            `the ${code} code was already exchanged and no refresh token is left: log in again`,
          )
        }
        const params = await grantParams(options.grant, usedRefreshToken)
        const { grant } = options
        let poll: DevicePoll | undefined
        if (grant.type === 'urn:ietf:params:oauth:grant-type:device_code' && usedRefreshToken === undefined) {
          // resolveOptions gave the grant its interval
          const resolved = grant as typeof grant & { interval: number }
          devicePoll ??= import('../flows/device-poll.js').then((m) =>
            m.createDevicePoll(resolved, clock, { AuthorizationError, OAuthError }),
          )
          poll = await devicePoll
        }
        const { token } = poll
          ? await poll(() => client.send(params), onPollAnswer, stopPolling.signal)
          : await client.send(params)
        if (isOneTime(options.grant)) codeSpent = true
        const obtainedAt = clock()
        // RFC 6749 §6: a server that does not rotate leaves the old refresh token valid
        const kept = token.refreshToken ?? usedRefreshToken
        if (usedRefreshToken !== undefined && kept !== usedRefreshToken) {
          // rotated: a store that missed our write (it was down) must not hand the old one back
          spentRefreshTokens.push(usedRefreshToken)
          if (spentRefreshTokens.length > INVALIDATED_MEMORY) spentRefreshTokens.shift()
        }
        const data = { ...tokenToData(token), ...(kept !== undefined && { refreshToken: kept }) }
        const expiresAt = token.expiresAt ?? obtainedAt + options.defaultLifetime
        return {
          token: data,
          obtainedAt,
          refreshAt: refreshAtFor(obtainedAt, expiresAt, options.refreshSkew),
          fingerprint: await sha256Hex(data.accessToken),
        }
      } catch (error) {
        if (
          usedRefreshToken !== undefined &&
          error instanceof OAuthError &&
          error.error === 'invalid_grant'
        ) {
          // the refresh token is spent or revoked; a grant that can be run again starts over (a
          // refresh_token grant keeps its newest refresh token: an older one would be a replay)
          if (!isRepeatable(options.grant)) {
            // the code is spent too: the next call asks for a new login instead of a replay
            if (isOneTime(options.grant) && refreshToken === usedRefreshToken) refreshToken = undefined
            throw error
          }
          if (refreshToken === usedRefreshToken) refreshToken = undefined
          continue
        }
        const delay = retryDelay(error, attempt, options.retry, clock(), Math.random())
        const willRetry = attempt < options.retry.attempts && isRetryable(error) && clock() + delay < deadline
        const delayMs = willRetry ? delay : undefined
        emitter.emit('token-error', {
          key: keyInfo,
          error: error as Error,
          attempt,
          willRetry,
          ...(delayMs !== undefined && { delayMs }),
        })
        if (!willRetry) throw error
        await new Promise((resolve) => setTimeout(resolve, delayMs))
      }
    }
  }

  /** The cached token while it is fresh, marked as used; starts the refresh ahead when it is due. */
  function peek(): Token | undefined {
    const cached = current
    if (!cached) return undefined
    const now = clock()
    if (now >= cached.entry.refreshAt) return undefined
    cached.used = true
    if (options.refreshAhead && now >= cached.aheadAt) refreshInBackground()
    return cached.token
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
      const cached = forceRefresh ? undefined : peek()
      if (cached) return cached
      if (forceRefresh) forceNext = true
      const token = await abortable(obtainShared(false), signal)
      if (current?.token === token) current.used = true
      return token
    },
    peekToken: peek,
    async invalidate(token) {
      const accessToken = typeof token === 'string' ? token : token?.accessToken
      if (typeof accessToken !== 'string') return false
      const cached = current
      const dropped = cached?.token.accessToken === accessToken
      if (dropped) {
        current = undefined
        clearTimeout(aheadTimer)
        emitter.emit('invalidated', { key: keyInfo })
      }
      // a 401 storm hands in the same stale token hundreds of times: the shared store is asked once
      if (invalidated.includes(accessToken)) return dropped
      invalidated.push(accessToken)
      if (invalidated.length > INVALIDATED_MEMORY) invalidated.shift()
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
      // loaded on first use: most providers never revoke
      const { revokeTokens, tokensToRevoke } = await import('../endpoint/revocation.js')
      const deps = {
        sendRequest,
        readJsonObject,
        rememberForm,
        parseEndpoint,
        errors: { ConfigError, OAuthError },
      }
      const key = await cacheKey()
      const stored = current?.entry ?? (await storeCall('get', () => store.get(key)))
      const held = {
        accessToken: stored?.token.accessToken,
        refreshToken: refreshToken ?? stored?.token.refreshToken,
      }
      const tokens = tokensToRevoke(revokeOptions, held, deps)
      const result = await revokeTokens(options, client, tokens, deps)
      if (tokens.accessToken !== undefined) await provider.invalidate(tokens.accessToken)
      // the grant (and what the store keeps of it) ends with its refresh token
      if (tokens.refreshToken === undefined || tokens.refreshToken !== held.refreshToken) return result
      spentRefreshTokens.push(tokens.refreshToken)
      if (refreshToken === tokens.refreshToken) refreshToken = undefined
      await storeCall('delete', () => store.delete(key))
      return result
    },
    on: emitter.on,
    async close() {
      closed = true
      clearTimeout(aheadTimer)
      aheadTimer = undefined
      // a device poll in progress ends too (its callers get this error); a later getToken() polls anew
      stopPolling.abort(
        new AuthorizationError('the provider was closed before the device authorization was approved'),
      )
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
