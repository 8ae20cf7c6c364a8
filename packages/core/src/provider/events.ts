/** The non-secret parts of a cache key, carried by every event so logs can tell providers apart. */
export interface TokenKeyInfo {
  /** The token endpoint; with `issuer`, the issuer until its metadata has been read. */
  tokenEndpoint: string
  /** The configured issuer, when the token endpoint is discovered. */
  issuer?: string
  clientId: string
  grantType: string
  scope?: string
  audience?: string
  resource?: readonly string[]
}

/** Events a provider emits. None carries a token or a secret. */
export interface TokenEvents {
  /** A token came from the token endpoint (`source: 'endpoint'`) or a shared store (`'store'`). */
  token: {
    key: TokenKeyInfo
    source: 'endpoint' | 'store'
    durationMs: number
    expiresAt: number
    background: boolean
  }
  /** A token request failed; `willRetry` says whether another attempt follows after `delayMs`. */
  'token-error': { key: TokenKeyInfo; error: Error; attempt: number; willRetry: boolean; delayMs?: number }
  /** A refresh failed while the cached token was still valid: callers keep getting it. */
  'refresh-failed': { key: TokenKeyInfo; error: Error; expiresAt: number }
  /** `invalidate()` dropped the cached token. */
  invalidated: { key: TokenKeyInfo }
  /** The store failed; core carried on with its local cache. */
  'store-error': { key: TokenKeyInfo; operation: string; error: unknown }
}

export type TokenEventName = keyof TokenEvents
export type TokenEventListener<E extends TokenEventName> = (event: TokenEvents[E]) => void

/**
 * A logger such as `console` or pino: tokenwell calls `warn` for failures it recovers from and
 * `debug` for routine events. Messages carry no secret.
 */
export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void
  warn?(message: string, fields?: Record<string, unknown>): void
}

/** A tiny typed emitter. A listener that throws is ignored: observability never breaks a request. */
export function createEmitter(logger: Logger | undefined) {
  const listeners = new Map<TokenEventName, Set<(event: never) => void>>()
  return {
    on<E extends TokenEventName>(name: E, listener: TokenEventListener<E>): () => void {
      const set = listeners.get(name) ?? new Set()
      listeners.set(name, set)
      set.add(listener as (event: never) => void)
      return () => set.delete(listener as (event: never) => void)
    },
    emit<E extends TokenEventName>(name: E, event: TokenEvents[E]): void {
      for (const listener of listeners.get(name) ?? []) {
        try {
          ;(listener as TokenEventListener<E>)(event)
        } catch {}
      }
      if (!logger) return
      const { key, error, ...rest } = event as { key: TokenKeyInfo; error?: unknown }
      const fields = {
        ...rest,
        clientId: key.clientId,
        tokenEndpoint: key.tokenEndpoint,
        ...describeError(error),
      }
      if (name === 'token' || name === 'invalidated') logger.debug?.(`tokenwell: ${name}`, fields)
      else logger.warn?.(`tokenwell: ${name}`, fields)
    },
  }
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return {}
  return { error: error.message, code: (error as { code?: unknown }).code }
}
