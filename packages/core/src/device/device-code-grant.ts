import { AuthorizationError, OAuthError } from '../errors.js'
import { createDevicePoll } from '../flows/device-poll.js'
import type { DeviceCodeGrant } from '../grants/grants.js'

/**
 * The `grant` of a provider that polls for the tokens of a device authorization (what
 * `startDeviceAuthorization()` returned): its first `getToken()` resolves once the user has
 * approved. Only `deviceCode`, `interval` and `expiresAt` are taken.
 * @see RFC 8628 §3.4, §3.5
 * @example
 * import { deviceCodeGrant, startDeviceAuthorization } from '@tokenwell/core/device'
 * const authorization = await startDeviceAuthorization({ deviceAuthorizationEndpoint, clientId: 'tv', clientAuth: 'none' })
 * const provider = createTokenProvider({ tokenEndpoint, clientId: 'tv', clientAuth: 'none', grant: deviceCodeGrant(authorization) })
 */
export function deviceCodeGrant(authorization: {
  deviceCode: string
  interval?: number | undefined
  expiresAt?: number | undefined
}): DeviceCodeGrant {
  const { deviceCode, interval, expiresAt } = authorization ?? {}
  return {
    type: 'urn:ietf:params:oauth:grant-type:device_code',
    deviceCode,
    ...(interval !== undefined && { interval }),
    ...(expiresAt !== undefined && { expiresAt }),
    poller: (grant, clock) => createDevicePoll(grant, clock, { AuthorizationError, OAuthError }),
  }
}
