import type { DeviceRegistry } from './device-registry.js'
import type { createFaultQueue } from './faults.js'
import type { AuthorizationCodeRecord } from './grants.js'
import type { ResolvedMockAuthServerOptions } from './options.js'
import type { SigningKey } from './signing-key.js'
import type { AuthServerStats, TokenRequestLogEntry } from './stats.js'
import type { TokenRegistry } from './token-registry.js'

/** Everything one mock authorization server holds; shared by its endpoint functions. */
export interface AuthServerState {
  readonly options: ResolvedMockAuthServerOptions
  readonly key: SigningKey
  readonly registry: TokenRegistry
  readonly codes: Map<string, AuthorizationCodeRecord>
  readonly devices: DeviceRegistry
  readonly stats: AuthServerStats
  readonly log: TokenRequestLogEntry[]
  readonly faults: ReturnType<typeof createFaultQueue>
  /** Seconds; `setTokenLifetime()` changes it. */
  tokenLifetime: number
  /** Ms; `setLatency()` changes it. */
  latency: number
  /** Token responses issued, for occasional pruning of expired records. */
  issued: number
}

/** A random opaque token (refresh tokens, authorization codes): 256 bits, base64url. */
export function randomToken(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/** Waits `ms` (no timer at all for 0, so fake timers in tests are unaffected). */
export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}
