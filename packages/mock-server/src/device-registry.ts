import { ConfigError } from './config-error.js'
import type { ResolvedMockAuthServerOptions } from './options.js'

/** The `grant_type` of the device code grant. @see RFC 8628 §3.4 */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** A device authorization waiting for the user, then exchanged once. @see RFC 8628 §3.2 */
export interface DeviceCodeRecord {
  readonly clientId: string
  readonly userCode: string
  readonly scope: string | undefined
  /** Epoch ms. */
  readonly expiresAt: number
  /** Minimum wait between polls, ms; each `slow_down` adds 5 s. */
  interval: number
  /** When the last poll came, epoch ms. */
  lastPolledAt: number | undefined
  status: 'pending' | 'approved' | 'denied' | 'used'
  user: { sub: string; username: string } | undefined
}

/** Device authorizations by device code, and the device code of each user code. */
export interface DeviceRegistry {
  readonly byDeviceCode: Map<string, DeviceCodeRecord>
  readonly byUserCode: Map<string, string>
}

export function createDeviceRegistry(): DeviceRegistry {
  return { byDeviceCode: new Map(), byUserCode: new Map() }
}

/** RFC 8628 §6.1: 20 consonants, no vowels (no words), case-insensitive, 8 of them ≈ 34 bits. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'

export function newUserCode(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8))
  const chars = [...bytes].map((byte) => USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length])
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`
}

/** What the user typed, as stored: upper case, letters only (RFC 8628 §6.1: ignore the dash and case). */
export function normaliseUserCode(value: string): string {
  return value.toUpperCase().replace(/[^A-Z]/g, '')
}

/**
 * The user's decision on a pending device authorization: `approve` for the user named `username`
 * (default: the first configured user) or `deny`. Returns false when no pending, unexpired
 * authorization has that user code; throws `ConfigError` for a user the server does not know.
 */
export function decideDevice(
  { options, devices }: { options: ResolvedMockAuthServerOptions; devices: DeviceRegistry },
  userCode: string,
  decision: 'approve' | 'deny',
  username?: string,
): boolean {
  const deviceCode = devices.byUserCode.get(normaliseUserCode(String(userCode)))
  const record = deviceCode === undefined ? undefined : devices.byDeviceCode.get(deviceCode)
  if (record === undefined || record.status !== 'pending' || record.expiresAt <= options.clock()) return false
  if (decision === 'deny') {
    record.status = 'denied'
    return true
  }
  const user = username === undefined ? options.users.values().next().value : options.users.get(username)
  if (user === undefined) throw new ConfigError(`approveDevice: no user "${username ?? ''}" is configured`)
  record.user = { sub: user.sub, username: user.username }
  record.status = 'approved'
  return true
}
