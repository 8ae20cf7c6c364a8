import { ConfigError } from '../errors.js'
import type { CallParams } from '../provider/call-tokens.js'
import type { TokenProvider } from '../provider/token-provider.js'
import type { Token } from '../token.js'
import type { AdapterOptions } from './adapter-options.js'
import { authHeaders, isDpopBound } from './auth-headers.js'
import { authorizationHeader } from './authorization-header.js'
import { isReplayableBody } from './body.js'
import { callFor, readChallenge, stepUpError } from './challenge.js'
import { replayDecision } from './decision.js'
import { pageBase, startsWithOrigin } from './origin.js'
import type { ProtocolWithoutScrub, RequestProtocol } from './request-protocol.js'
import { createRequestScope } from './request-scope.js'
import { loadScrubber, scrubSecrets } from './scrub.js'
import { scrubCauses } from './scrub-causes.js'
import { type ClientShape, createGrant, type Grant } from './shape.js'
import { waitForToken } from './wait.js'
import { namesTokenError } from './www-authenticate.js'

/** Access tokens remembered to scrub from errors. */
const RECENT_TOKENS = 4
/** DPoP proofs remembered to scrub from errors: one per send, so as many as sends in flight. */
const RECENT_PROOFS = 64

/**
 * Creates the request protocol for one client, which `shape` describes. Throws `ConfigError`
 * for a provider that is not one or a bad `match`.
 *
 * @example
 * const protocol = createRequestProtocol(provider, options, shape)
 * const grant = protocol.begin(request) // then set grant.authorization (and grant.proof as DPoP)
 */
export function createRequestProtocol<R, S>(
  provider: TokenProvider,
  options: AdapterOptions,
  shape: ClientShape<R, S>,
): RequestProtocol<R, S> {
  const held: Held = { tokens: new Set(), proofs: [] }
  return Object.freeze({
    ...protocolFor(provider, options, shape, held),
    scrub: <E>(error: E, sent?: Grant) =>
      scrubSecrets(error, held.tokens, held.proofs, sent?.proof === undefined ? [] : [sent.proof]),
  })
}

/**
 * The request protocol with `scrubCauses` for `scrub`, for a client whose errors hold no request a
 * token it sent could be in, only text (fetch answers HTTP errors as responses): a page that uses
 * only such a client does not bundle the walk through an error's objects. Otherwise as
 * `createRequestProtocol`.
 */
export function createProtocolWithoutScrub<R, S>(
  provider: TokenProvider,
  options: AdapterOptions,
  shape: ClientShape<R, S>,
): ProtocolWithoutScrub<R, S> {
  const held: Held = { tokens: new Set(), proofs: [] }
  return Object.freeze({
    ...protocolFor(provider, options, shape, held),
    scrubCauses: <E>(error: E) => scrubCauses(error, held.tokens, held.proofs),
  })
}

/** The access tokens and DPoP proofs a protocol handed out lately, to find in what comes back. */
interface Held {
  readonly tokens: Set<string>
  readonly proofs: string[]
}

function protocolFor<R, S>(
  provider: TokenProvider,
  options: AdapterOptions,
  shape: ClientShape<R, S>,
  { tokens, proofs }: Held,
): Omit<ProtocolWithoutScrub<R, S>, 'scrubCauses'> {
  if (typeof provider?.getToken !== 'function' || typeof provider.invalidate !== 'function') {
    throw new ConfigError('provider must be a TokenProvider (from createTokenProvider)')
  }
  const scope = createRequestScope(options, shape)
  for (const name of ['stepUp', 'claimsChallenges'] as const) {
    const value = options[name]
    if (value !== undefined && typeof value !== 'boolean') throw new ConfigError(`${name} must be a boolean`)
  }
  const stepUp = options.stepUp === true
  const claimsChallenges = options.claimsChallenges !== false
  const peek = typeof provider.peekToken === 'function' ? () => provider.peekToken() : () => undefined
  let last: Grant | undefined

  /** Keeps `token` among the few to scrub from errors. */
  function remember(token: Token): void {
    if (tokens.has(token.accessToken)) return
    if (tokens.size >= RECENT_TOKENS) tokens.delete(tokens.values().next().value!)
    tokens.add(token.accessToken)
  }

  function bearer(token: Token, origin: string, replayed: boolean, call?: CallParams): Grant {
    if (!replayed && last?.token === token && last.origin === origin) return last
    remember(token)
    const grant = createGrant({
      token,
      origin,
      authorization: authorizationHeader(token),
      proof: undefined,
      dpop: false,
      replayed,
      ...(call && { call }),
    })
    if (!replayed) last = grant
    return grant
  }

  async function grantFor(
    token: Token,
    origin: string,
    request: R,
    replayed: boolean,
    call?: CallParams,
  ): Promise<Grant> {
    if (!isDpopBound(token)) return bearer(token, origin, replayed, call)
    const method = shape.method(request)
    // a proof names the absolute URL the request goes to: a relative one (a page's `/api/x`) as fetch resolves it
    const url = new URL(scope.hrefOf(request), pageBase()).href
    const headers = await authHeaders(token, { method, url }, provider.dpop)
    remember(token)
    if (headers.dpop !== undefined && proofs.push(headers.dpop) > RECENT_PROOFS) proofs.shift()
    return createGrant({
      token,
      origin,
      authorization: headers.authorization,
      proof: headers.dpop,
      dpop: true,
      replayed,
      ...(call && { call }),
    })
  }

  const waitOf = (request: R) => ({ signal: shape.signal?.(request), timeout: shape.timeout?.(request) })

  async function authorize(request: R, origin: string, peeked: Token | undefined) {
    // no token goes out before the scrubber for the errors that may echo it has loaded (rule 5)
    const [token] = await Promise.all([peeked ?? waitForToken(provider, waitOf(request)), loadScrubber()])
    return token && grantFor(token, origin, request, false)
  }

  async function replay(grant: Grant, request: R, renew: boolean): Promise<Grant | undefined> {
    const wait = waitOf(request)
    if (!renew) return grantFor(grant.token, grant.origin, request, true, grant.call)
    if (wait.signal?.aborted) return undefined
    await provider.invalidate(grant.token)
    const token = await waitForToken(provider, wait)
    return token && grantFor(token, grant.origin, request, true)
  }

  /** The challenge's one replay, with a token for `call`; `undefined` once the caller aborted. */
  async function answer(grant: Grant, request: R, call: CallParams): Promise<Grant | undefined> {
    const wait = waitOf(request)
    if (wait.signal?.aborted) return undefined
    const token = await waitForToken(provider, wait, call)
    return token && grantFor(token, grant.origin, request, true, call)
  }

  return {
    provider,
    ready() {
      const token = peek()
      return token !== undefined && (token === last?.token || !isDpopBound(token)) && !loadScrubber()
    },
    begin(request: R) {
      if (shape.ownCredentials(request)) return undefined
      const origin = scope.admitted(request)
      if (origin === undefined) return undefined
      const token = peek()
      // the last Bearer grant's token needs no `toLowerCase()` of its type again (the hot path)
      if (token !== undefined && (token === last?.token || !isDpopBound(token)) && !loadScrubber())
        return bearer(token, origin, false)
      return authorize(request, origin, token)
    },
    again(grant: Grant, request: R) {
      if (grant.authorization === undefined) return grant
      if (scope.originOf(request) !== grant.origin)
        return createGrant({ ...grant, authorization: undefined, proof: undefined })
      return grant.dpop ? grantFor(grant.token, grant.origin, request, grant.replayed, grant.call) : grant
    },
    onResponse(grant: Grant, request: R, response: S) {
      if (grant.authorization === undefined) return undefined
      const status = shape.status(response)
      const challengeable = status === 401 || status === 403
      if (!grant.dpop && !challengeable) return undefined
      const final = shape.responseUrl?.(response)
      const href = final === undefined ? grant.origin : String(final)
      if (!sameOrigin(href, grant.origin)) return undefined
      const header = (name: string) => shape.header(response, name)
      // a chain that left the origin sent no token on its last hop (rule 6): that 401 is not the token's
      const chain = shape.redirects?.(response)
      if (chain?.some((url) => !sameOrigin(url, grant.origin))) return undefined
      // hops the client does not tell: only a challenge naming an error says the token went (RFC 6750 §3.1)
      if (chain === null && !namesTokenError(header('www-authenticate'))) return undefined
      const challenge = challengeable ? readChallenge(status, header('www-authenticate')) : undefined
      // RFC 9470: no token this provider can get answers it; the caller gets a typed error
      if (challenge?.kind === 'authentication') return Promise.reject(stepUpError(status, challenge, tokens))
      const dpop = grant.dpop ? provider.dpop : undefined
      const decision = replayDecision(status, header, dpop, href) // keeps a DPoP nonce it carries
      // a per-call token refused: the next request asks anew (the cache would hand it out again)
      if (grant.replayed && grant.call && decision === 'renew') void provider.invalidate(grant.token)
      // one replay per request, whatever asked for it: a 401 renewal, a DPoP nonce, a challenge
      if (grant.replayed || !isReplayableBody(shape.body?.(request))) return undefined
      const acted = challenge?.kind === 'claims' ? claimsChallenges : challenge !== undefined && stepUp
      const call = acted ? callFor(challenge!, grant.call, provider.keyInfo, tokens) : undefined
      if (call) return answer(grant, request, call)
      if (decision === 'none') return undefined
      return replay(grant, request, decision === 'renew')
    },
  }
}

const sameOrigin = (url: string | URL, origin: string) =>
  (typeof url === 'string' && startsWithOrigin(url, origin)) ||
  (URL.canParse(url) && new URL(url).origin === origin)
