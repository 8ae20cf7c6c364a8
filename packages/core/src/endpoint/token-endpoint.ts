import type { Dpop, DpopSession } from '../dpop/dpop.js'
import type { CallParams } from '../provider/call-tokens.js'
import type { Discovery, ResolvedEndpoint, ResolvedTokenProviderOptions } from '../provider/options.js'
import type { Token } from '../token.js'
import { buildTokenRequest, requestToken } from './token-request.js'

export type { Discovery, ResolvedEndpoint } from '../provider/options.js'

export interface TokenEndpointClient {
  /** The token endpoint and auth method; discovery runs once (single-flight), a failure is not cached. */
  endpoint(): Promise<ResolvedEndpoint>
  /**
   * Signs, sends and parses one token request, with the one DPoP nonce retry RFC 9449 §8 allows.
   * `timeout` (ms, default the `timeout` option) bounds the request itself: a refresh is given
   * longer than its caller waits, so a late answer is still read and adopted. `call`: the scope
   * (instead of the configured one) and `claims` of one `getToken()` call. `onRotated`: the
   * refresh token of a 2xx answer refused as a token response (see `requestToken`).
   */
  send(
    params: Record<string, string>,
    timeout?: number,
    call?: CallParams,
    onRotated?: (refreshToken: string) => void,
  ): Promise<{ token: Token; response: Response }>
  /**
   * A request of `params` to another endpoint of the same server (the device authorization
   * endpoint), with the client authentication a token request would use.
   */
  prepareFor(url: URL, params: Record<string, string>): Promise<Request>
  /** The provider's DPoP session when `dpop` is on. */
  readonly dpop: DpopSession | undefined
  /** The tokens the provider holds: every error of a request to its server is scrubbed of them too. */
  readonly heldTokens: () => Iterable<string | undefined>
}

/**
 * The token endpoint client of one provider. `onEndpoint` hears of the endpoint once it is
 * known; `heldTokens` tells the tokens the provider holds (a refresh's error may echo the
 * access token it replaces).
 */
export function createTokenEndpointClient(
  options: ResolvedTokenProviderOptions,
  onEndpoint?: (endpoint: ResolvedEndpoint) => void,
  heldTokens: () => Iterable<string | undefined> = () => [],
): TokenEndpointClient {
  const dpop = options.dpop?.session(options.clock)
  let resolved: ResolvedEndpoint | undefined
  let pending: Promise<ResolvedEndpoint> | undefined

  function endpoint(): Promise<ResolvedEndpoint> {
    if (resolved) return Promise.resolve(resolved)
    if (options.tokenEndpoint) {
      resolved = { tokenEndpoint: options.tokenEndpoint, clientAuth: options.clientAuth }
      return Promise.resolve(resolved)
    }
    // the discovery code comes from @tokenwell/core/discovery: resolveOptions made sure it is there
    pending ??= (options.discovery as Discovery).endpoint(options).then(
      (result) => {
        resolved = result
        onEndpoint?.(result)
        return result
      },
      (error: unknown) => {
        pending = undefined // a failed discovery is tried again by the next token request
        throw error
      },
    )
    return pending
  }

  /** A request ready to send: a fresh client assertion and DPoP proof each time (both carry a jti). */
  async function prepare(
    params: Record<string, string>,
    { tokenEndpoint, clientAuth }: ResolvedEndpoint,
    form: ResolvedTokenProviderOptions = options,
  ): Promise<Request> {
    // the signer comes from @tokenwell/core/jwt: only clients that authenticate with a JWT bundle it
    // (resolveOptions made sure a JWT method has one; discovery never picks a JWT method itself,
    // and without a signer applyClientAuth refuses a JWT method with a ConfigError)
    const signer = options.clientAssertion
    const clientAssertion = await signer?.sign({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      audience: signer.audience ?? tokenEndpoint.href,
      now: options.clock(),
    })
    const dpopProof = dpop ? await dpop.proof({ method: 'POST', url: tokenEndpoint }) : undefined
    return buildTokenRequest(form, params, { tokenEndpoint, clientAuth, clientAssertion, dpopProof })
  }

  async function send(
    params: Record<string, string>,
    timeout = options.timeout,
    call?: CallParams,
    onRotated?: (refreshToken: string) => void,
  ): Promise<{ token: Token; response: Response }> {
    const target = await endpoint()
    const form = call === undefined ? options : withCallParams(options, call)
    const limited = { ...form, timeout, heldTokens, onRotated }
    const attempt = async () => requestToken(limited, await prepare(params, target, form))
    // the nonce bookkeeping (RFC 9449 §8) comes with the DPoP plug-in
    return dpop ? (options.dpop as Dpop).tokenRequest(dpop, target.tokenEndpoint, attempt) : attempt()
  }

  async function prepareFor(url: URL, params: Record<string, string>): Promise<Request> {
    const { clientAuth } = await endpoint()
    return prepare(params, { tokenEndpoint: url, clientAuth })
  }

  return { endpoint, send, prepareFor, dpop, heldTokens }
}

/** The options a token request for `call` is built from: its scope, and `claims` among the extras. */
function withCallParams(
  options: ResolvedTokenProviderOptions,
  call: CallParams,
): ResolvedTokenProviderOptions {
  return {
    ...options,
    scope: call.scope ?? options.scope,
    extraParams:
      call.claims === undefined ? options.extraParams : { ...options.extraParams, claims: call.claims },
  }
}
