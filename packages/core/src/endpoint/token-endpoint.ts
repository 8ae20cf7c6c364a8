import { type AuthorizationServerMetadata, discoverAuthorizationServer } from '../discovery/discovery.js'
import { endpointFor } from '../discovery/mtls-aliases.js'
import { discoverResourceIssuer } from '../discovery/protected-resource.js'
import { createDpopSession, type DpopSession } from '../dpop/dpop.js'
import { ConfigError, DiscoveryError, DpopError, OAuthError } from '../errors.js'
import type { CallParams } from '../provider/call-tokens.js'
import {
  type ClientAuthMethod,
  parseEndpoint,
  type ResolvedTokenProviderOptions,
} from '../provider/options.js'
import { scrubFailure } from '../redaction/scrub.js'
import type { Token } from '../token.js'
import type { ClientAssertionSigner } from './client-assertion.js'
import { buildTokenRequest, requestToken } from './token-request.js'

/** Where and how to ask for tokens, once known (configured, or discovered from the issuer). */
export interface ResolvedEndpoint {
  tokenEndpoint: URL
  clientAuth: ClientAuthMethod
  metadata?: AuthorizationServerMetadata
}

export interface TokenEndpointClient {
  /** The token endpoint and auth method; discovery runs once (single-flight), a failure is not cached. */
  endpoint(): Promise<ResolvedEndpoint>
  /**
   * Signs, sends and parses one token request, with the one DPoP nonce retry RFC 9449 §8 allows.
   * `timeout` (ms, default the `timeout` option) bounds the request itself: a refresh is given
   * longer than its caller waits, so a late answer is still read and adopted. `call`: the scope
   * (instead of the configured one) and `claims` of one `getToken()` call.
   */
  send(
    params: Record<string, string>,
    timeout?: number,
    call?: CallParams,
  ): Promise<{ token: Token; response: Response }>
  /**
   * A request of `params` to another endpoint of the same server (the device authorization
   * endpoint), with the client authentication a token request would use.
   */
  prepareFor(url: URL, params: Record<string, string>): Promise<Request>
  /** The provider's DPoP session when `dpop` is on. */
  readonly dpop: DpopSession | undefined
}

/** The token endpoint client of one provider. `onEndpoint` hears of the endpoint once it is known. */
export function createTokenEndpointClient(
  options: ResolvedTokenProviderOptions,
  onEndpoint?: (endpoint: ResolvedEndpoint) => void,
): TokenEndpointClient {
  const dpop = options.dpop ? createDpopSession(options.dpop, options.clock) : undefined
  let signer: Promise<ClientAssertionSigner> | undefined
  let resolved: ResolvedEndpoint | undefined
  let pending: Promise<ResolvedEndpoint> | undefined

  async function discover(): Promise<ResolvedEndpoint> {
    const discovery = {
      fetch: options.fetch,
      timeout: options.timeout,
      allowInsecureHttp: options.allowInsecureHttp,
    }
    // the server knows the client's secret, and may echo it here too (rule 5)
    const scrubbed = async (error: unknown) => {
      throw await scrubFailure(error, undefined, options)
    }
    // RFC 9728: the resource names its authorization server
    const issuer =
      options.protectedResource === undefined
        ? (options.issuer as string)
        : await discoverResourceIssuer(options.protectedResource, options.issuer, discovery).catch(scrubbed)
    const metadata = await discoverAuthorizationServer(issuer, discovery).catch(scrubbed)
    // loaded already, by the discovery above
    const { chooseClientAuth } = await import('../discovery/metadata.js')
    const clientAuth = chooseClientAuth(options, metadata)
    const alias = endpointFor(metadata, 'token_endpoint', clientAuth)
    return {
      tokenEndpoint:
        alias === metadata.token_endpoint
          ? new URL(metadata.token_endpoint)
          : parseAlias(alias, options.allowInsecureHttp),
      clientAuth,
      metadata,
    }
  }

  function endpoint(): Promise<ResolvedEndpoint> {
    if (resolved) return Promise.resolve(resolved)
    if (options.tokenEndpoint) {
      resolved = { tokenEndpoint: options.tokenEndpoint, clientAuth: options.clientAuth }
      return Promise.resolve(resolved)
    }
    pending ??= discover().then(
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
    let clientAssertion: string | undefined
    if (clientAuth === 'private_key_jwt' || clientAuth === 'client_secret_jwt') {
      // signing needs jose: loaded only by clients that authenticate with a JWT
      signer ??= import('./client-assertion.js').then((m) =>
        m.createClientAssertionSigner(options, { ConfigError }),
      )
      clientAssertion = await (await signer)(
        clientAuth,
        options.clientAssertion.audience ?? tokenEndpoint.href,
        options.clock(),
      )
    }
    const dpopProof = dpop ? await dpop.proof({ method: 'POST', url: tokenEndpoint }) : undefined
    return buildTokenRequest(form, params, {
      tokenEndpoint,
      clientAuth,
      ...(clientAssertion !== undefined && { clientAssertion }),
      ...(dpopProof !== undefined && { dpopProof }),
    })
  }

  async function send(
    params: Record<string, string>,
    timeout = options.timeout,
    call?: CallParams,
  ): Promise<{ token: Token; response: Response }> {
    const target = await endpoint()
    const form = call === undefined ? options : withCallParams(options, call)
    const limited = timeout === form.timeout ? form : { ...form, timeout }
    for (let nonceRetries = 0; ; nonceRetries++) {
      try {
        const result = await requestToken(limited, await prepare(params, target, form))
        dpop?.rememberNonce(target.tokenEndpoint, result.response.headers)
        return result
      } catch (error) {
        const response = (error as { response?: Response }).response
        if (dpop && response) dpop.rememberNonce(target.tokenEndpoint, response.headers)
        if (!dpop || !(error instanceof OAuthError) || error.error !== 'use_dpop_nonce') throw error
        // RFC 9449 §8: retry once with the server's nonce; a second demand is an error, never a loop
        const nonce = response?.headers.get('dpop-nonce')
        if (nonce && nonceRetries === 0) continue
        throw new DpopError(
          nonce
            ? 'token endpoint demanded a new DPoP nonce again after one retry with its nonce'
            : 'token endpoint demanded a DPoP nonce but sent no DPoP-Nonce header',
          { cause: error, ...(response && { response }) },
        )
      }
    }
  }

  async function prepareFor(url: URL, params: Record<string, string>): Promise<Request> {
    const { clientAuth } = await endpoint()
    return prepare(params, { tokenEndpoint: url, clientAuth })
  }

  return { endpoint, send, prepareFor, dpop }
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

/** An `mtls_endpoint_aliases` URL, checked as the plain endpoint is. @see RFC 8705 §5 */
function parseAlias(alias: unknown, allowInsecureHttp: boolean): URL {
  try {
    return parseEndpoint('mtls_endpoint_aliases.token_endpoint', alias, allowInsecureHttp)
  } catch (cause) {
    throw new DiscoveryError('metadata has no usable mtls_endpoint_aliases.token_endpoint', { cause })
  }
}
