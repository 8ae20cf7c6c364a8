export {
  type LoopbackRedirect,
  type LoopbackRedirectOptions,
  startLoopbackRedirect,
} from './loopback-redirect.js'
export { createNodeFetch, INSECURE_WARNING, type NodeFetch, type NodeFetchOptions } from './node-fetch.js'
