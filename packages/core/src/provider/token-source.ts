import type { TokenEndpointClient } from '../endpoint/token-endpoint.js'
import { TokenwellError } from '../errors.js'
import { isRepeatable } from '../grants/grants.js'
import { scrubFailure } from '../redaction/scrub.js'
import type { StoreEntry } from '../store.js'
import type { Token } from '../token.js'
import { createAttemptLoop } from './attempt-loop.js'
import type { CallParams } from './call-tokens.js'
import { createCurrentToken } from './current-token.js'
import type { createEmitter, TokenKeyInfo } from './events.js'
import { retryByFor } from './expiry.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import { createRefreshSchedule } from './refresh-schedule.js'
import { createStoreCoordination } from './store-coordination.js'
import type { StoreCall } from './store-lease.js'

/** What the token source needs from the provider that owns it. */
export interface TokenSourceContext {
  options: ResolvedTokenProviderOptions
  client: TokenEndpointClient
  emitter: ReturnType<typeof createEmitter>
  /** The provider's current key info (it changes once the endpoint is discovered). */
  keyInfo: () => TokenKeyInfo
  /** The provider's cache key, computed once. */
  cacheKey: () => Promise<string>
  /** Ends a device poll's wait; replaced by `close()`. */
  pollSignal: () => AbortSignal
  /** Whether `close()` was called: no refresh is scheduled ahead after it. */
  closed: () => boolean
}

/**
 * The provider's obtain path: the cached token, the refresh-ahead schedule, the store and the
 * attempt loop, behind one single-flight `obtainShared()` (rule 1), with stale-while-valid on
 * failure and a `token` event for every token obtained.
 */
export function createTokenSource(context: TokenSourceContext) {
  const { options, client, emitter, keyInfo, cacheKey } = context
  const { clock, store } = options
  let lastFailure: { error: unknown; at: number } | undefined
  let forceNext = false

  const current = createCurrentToken(clock, options.refreshSkew, options.refreshAhead)
  const schedule = createRefreshSchedule(clock, () => obtainShared(true))
  const storeCall: StoreCall = async (operation, call, given) => {
    try {
      // a store call a caller waits on that never settles has failed once a lease and a token
      // request's time passed (a browser store asks the other tabs first; Redis bounds its own)
      const pending = call()
      return UNBOUNDED.has(operation)
        ? await pending
        : await bounded(pending, operation, options.lockTtl + options.timeout)
    } catch (thrown) {
      // a store's error may quote what it was given (ioredis keeps a command's arguments): it is
      // scrubbed of every token the provider holds, as a server's echo is (rule 5)
      const held = [given, current.get()?.entry.token]
      const heldTokens = () => [
        ...held.flatMap((token) => [token?.accessToken, token?.refreshToken, token?.idToken]),
        loop.refreshToken(),
      ]
      const error = await scrubFailure(thrown, undefined, { ...options, heldTokens })
      emitter.emit('store-error', { key: keyInfo(), operation, error })
      return undefined
    }
  }
  const loop = createAttemptLoop(
    options,
    client,
    {
      storeCall,
      emitTokenError: (event) => emitter.emit('token-error', { key: keyInfo(), ...event }),
      async onLateEntry(entry) {
        // a refresh answered after its callers stopped waiting: its token is adopted, not lost
        const key = await cacheKey()
        await coordination.write(key, entry)
        const newer = entry.obtainedAt > (current.get()?.entry.obtainedAt ?? -Infinity)
        if (newer) announce(adopt(entry), entry, 'endpoint', entry.obtainedAt, true)
      },
    },
    context.pollSignal,
  )
  const coordination = createStoreCoordination(options, storeCall, {
    usable: current.usable,
    async beforeFetch(key) {
      // another process may have rotated the refresh token since we last read the store
      const read = store.getRefreshToken?.bind(store)
      if (!read) return true
      const stored = await storeCall('getRefreshToken', async () => ({ refreshToken: await read(key) }))
      if (stored === undefined) return !loop.redeems()
      loop.offerRefreshToken(stored.refreshToken)
      return true
    },
    redeems: loop.redeems,
    restarts: isRepeatable(options.grant),
    redeeming: loop.redeeming,
    doubt: loop.doubt,
    idle: () => loop.redemptions.idle(),
  })

  /** How long the last token request took (ms): a slow endpoint's refresh ahead starts earlier. */
  let lead = 0

  function adopt(entry: StoreEntry): Token {
    const adopted = current.adopt(entry, lead)
    loop.adoptRefreshToken(adopted.token.refreshToken)
    lastFailure = undefined
    schedule.succeeded()
    scheduleAhead()
    return adopted.token
  }

  function scheduleAhead(): void {
    const cached = current.get()
    if (!options.refreshAhead || context.closed() || !cached) {
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
    // the cooldown spares the server a caller per call after a failure; the background refresh
    // runs on its own backoff, shorter at first: held back here, it would never run again
    if (failure && !background && clock() - failure.at < options.failureCooldown)
      return stillValid(failure.error, false)
    const started = clock()
    if (!force) {
      const entry = await storeCall('get', () => store.get(key))
      if (current.usable(entry, background)) return announce(adopt(entry), entry, 'store', started, false)
    }
    try {
      const { entry, source } = await coordination.obtain(key, force, background, loop.fetchEntry)
      if (source === 'endpoint') lead = clock() - started
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
    const key = { ...keyInfo(), ...(call.scope !== undefined && { scope: call.scope }) }
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
      emitter.emit('refresh-failed', { key: keyInfo(), error: error as Error, expiresAt })
      cached.schedule.aheadAt = schedule.failed(retryByFor(cached.schedule, cached.entry.obtainedAt, lead))
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
    emitter.emit('token', { key: keyInfo(), source, durationMs: clock() - started, expiresAt, background })
    return token
  }

  /** The cached token while it may be served, marked as used; starts the refresh ahead when due. */
  function peek(): Token | undefined {
    const hit = current.peek()
    if (hit?.due && options.refreshAhead) schedule.run()
    return hit?.token
  }

  return {
    current,
    schedule,
    storeCall,
    loop,
    obtainShared,
    obtainFor,
    peek,
    /** The next `obtainShared()` skips the cache and the store (`forceRefresh`). */
    forceNext() {
      forceNext = true
    },
  }
}

/** Store calls no caller waits on, or with a timeout of their own. */
const UNBOUNDED = new Set(['waitForEntry', 'release', 'extendLease', 'redeeming'])

/**
 * `pending`, or a rejection once `ms` pass first. A lease granted after that is released at once:
 * nothing holds it.
 */
function bounded<T>(pending: Promise<T> | undefined, operation: string, ms: number): Promise<T | undefined> {
  if (pending === undefined) return Promise.resolve(undefined)
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TokenwellError(`the store's ${operation} did not settle within ${ms} ms`, 'ERR_STORE'))
      if (operation === 'acquireLease')
        void pending.then(
          (lease) => typeof lease === 'function' && lease(),
          () => {},
        )
    }, ms)
  })
  return Promise.race([pending, late]).finally(() => clearTimeout(timer))
}

/** The obtain path of one provider. */
export type TokenSource = ReturnType<typeof createTokenSource>
