import { sha256Hex } from '../crypto/hash.js'
import type { Token } from '../token.js'
import type { createCallTokens } from './call-tokens.js'
import type { createEmitter, TokenKeyInfo } from './events.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import type { TokenSource } from './token-source.js'

/** What `invalidate()` needs from the provider that owns it. */
export interface InvalidateContext {
  store: ResolvedTokenProviderOptions['store']
  source: TokenSource
  emitter: ReturnType<typeof createEmitter>
  keyInfo: () => TokenKeyInfo
  cacheKey: () => Promise<string>
  /** The per-call tokens, once a call asked for them. */
  calls: () => ReturnType<typeof createCallTokens> | undefined
}

/**
 * The provider's `invalidate()`: compare-and-invalidate here, then in the shared store (by the
 * token's fingerprint), so a storm of 401s carrying one stale token causes one refresh. Never
 * rejects; resolves to whether this call dropped the local copy.
 */
export function createInvalidate(context: InvalidateContext): (token: Token | string) => Promise<boolean> {
  const { store, source, emitter } = context
  const { current, schedule, storeCall } = source
  return async (token) => {
    const accessToken = typeof token === 'string' ? token : token?.accessToken
    if (typeof accessToken !== 'string') return false
    if (context.calls()?.drop(accessToken)) return true
    const dropped = current.drop(accessToken)
    if (dropped) {
      schedule.cancel()
      emitter.emit('invalidated', { key: context.keyInfo() })
    }
    // a 401 storm hands in the same stale token hundreds of times: the shared store is asked once
    if (!current.remember(accessToken)) return dropped
    const key = await context.cacheKey()
    const fingerprint = await sha256Hex(accessToken)
    if (store.compareAndDelete) {
      const compareAndDelete = store.compareAndDelete.bind(store)
      await storeCall('compareAndDelete', () => compareAndDelete(key, fingerprint))
    } else {
      const entry = await storeCall('get', () => store.get(key))
      if (entry?.fingerprint === fingerprint) await storeCall('delete', () => store.delete(key))
    }
    return dropped
  }
}
