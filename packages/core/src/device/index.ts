export {
  type DeviceAuthorization,
  type DeviceAuthorizationOptions,
  startDeviceAuthorization,
} from '../flows/device-authorization.js'
export type { DeviceCodeGrant } from '../grants/grants.js'
export { deviceCodeGrant } from './device-code-grant.js'
