export type { Discovery } from '../provider/options.js'
export { discovery } from './discover-endpoint.js'
export {
  type AuthorizationServerMetadata,
  type DiscoveryOptions,
  discoverAuthorizationServer,
} from './discovery.js'
export {
  discoverProtectedResource,
  type ProtectedResourceMetadata,
  type ProtectedResourceTarget,
  protectedResourceMetadataUrl,
} from './protected-resource.js'
export { resourceMetadataFromChallenges } from './resource-challenge.js'
