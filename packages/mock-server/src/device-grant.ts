import type { GrantHandler } from './grant-context.js'
import { OAuthFailure } from './oauth-response.js'

/** What `slow_down` adds to a device code's interval, ms. @see RFC 8628 §3.5 */
const SLOW_DOWN = 5_000

/**
 * The device code grant: `authorization_pending` until the user decides (`slow_down`, adding 5 s to
 * the interval, for a poll that comes sooner than the interval), then `access_denied`, or tokens
 * once; `expired_token` after the code's lifetime.
 * @see RFC 8628 §3.4, §3.5
 */
export const deviceCodeGrant: GrantHandler = (context) => {
  const { devices, client, now } = context
  const deviceCode = context.params.get('device_code')
  if (!deviceCode) throw new OAuthFailure('invalid_request', 'missing parameter: device_code')
  const record = devices.byDeviceCode.get(deviceCode)
  if (record === undefined || record.clientId !== client.clientId) {
    throw new OAuthFailure('invalid_grant', 'unknown device code')
  }
  if (record.status === 'used') throw new OAuthFailure('invalid_grant', 'device code was already used')
  if (record.expiresAt <= now) throw new OAuthFailure('expired_token', 'the device code has expired')
  if (record.status === 'denied') throw new OAuthFailure('access_denied', 'the user denied the request')
  const last = record.lastPolledAt
  record.lastPolledAt = now
  if (record.status === 'pending') {
    // a little leeway for timer granularity: a client that waits the interval is never slowed down
    const leeway = Math.min(50, record.interval / 10)
    if (last !== undefined && now - last < record.interval - leeway) {
      record.interval += SLOW_DOWN
      throw new OAuthFailure('slow_down', `poll at most every ${record.interval / 1000} s`)
    }
    throw new OAuthFailure('authorization_pending', 'the user has not decided yet')
  }
  record.status = 'used'
  const user = record.user as { sub: string; username: string }
  return { sub: user.sub, username: user.username, scope: record.scope, refreshFamily: 'new' }
}
