// @tokenwell/core/adapter: the request protocol every adapter translates to its client's hooks.
export { isLoopback } from '../provider/option-checks.js'
export {
  Attempt,
  dropGrantOnAbort,
  keepGrantOffClone,
  restoreClone,
  scrubOnAbort,
  scrubOnCancel,
} from './abort-drop.js'
export type { AdapterOptions } from './adapter-options.js'
export { type AuthHeaders, authHeaders, isDpopBound, type RequestTarget } from './auth-headers.js'
export { authorizationHeader } from './authorization-header.js'
export { unwrapFetch, WRAPPED_FETCH } from './bare-fetch.js'
export { BODY_HEADERS, isReplayableBody, multipartBytes, pinnedMultipartType } from './body.js'
export { decodeClaims, type ResourceChallenge, readChallenge } from './challenge.js'
export { awaitConnection, checkConnections, checkedFetch, type GrantDispatch } from './connection-check.js'
export { type ReplayDecision, recordHeader, replayDecision } from './decision.js'
export { ChainedSend, DispatchChains } from './dispatch-chain.js'
export {
  fetchHopByHop,
  followsRedirectsHere,
  type RequestFetch,
  sendUnkept,
  setGrantHeaders,
} from './follow.js'
export { replayThroughGot, scrubGotError, scrubRetryError } from './got-options.js'
export { type ChainedHook, createHookChain } from './hook-chain.js'
export {
  createGrantLedger,
  dropGrantHeaders,
  endingWith,
  type GrantHeaders,
  type GrantLedger,
  hooksAfter,
  keepsGrant,
  pinEnding,
  runFirst,
  runLast,
} from './last-word.js'
export { type CompiledMatch, compileMatch, matches, type RequestMatch, type UrlMatcher } from './match.js'
export { baseOrigin, IN_BROWSER, knownOriginOf, pageBase, socketOrigin, startsWithOrigin } from './origin.js'
export { createPendingHops } from './pending-hops.js'
export { createProtocolWithoutScrub, createRequestProtocol } from './protocol.js'
export { isProviderRequest } from './provider-request.js'
export { quietAnswer } from './quiet-answer.js'
export {
  hasAuthorization,
  putGrantHeaders,
  type RequestHeaders,
  rawHeader,
  withGrantHeaders,
} from './raw-headers.js'
export { followedHops, followHop, type Redirect, redirectTarget, unseenRedirects } from './redirect.js'
export type { ProtocolWithoutScrub, RequestProtocol } from './request-protocol.js'
export { scrubSecrets } from './scrub.js'
export type { ClientShape, Grant } from './shape.js'
export { type TokenWait, waitForToken } from './wait.js'
export {
  type AuthChallenge,
  type HeaderValue,
  parseWwwAuthenticate,
  shouldReplay,
} from './www-authenticate.js'
