import { ConfigError, OAuthError } from '../errors.js'
import { parseEndpoint } from '../provider/option-checks.js'
import type { ResolvedTokenProviderOptions, Revocation } from '../provider/options.js'
import { rememberForm } from '../redaction/scrub.js'
import { readJsonObject, sendRequest } from './endpoint-exchange.js'
import type { TokenEndpointClient } from './token-endpoint.js'

/** What `provider.revoke()` sent: which tokens the revocation endpoint accepted. */
export interface RevocationResult {
  /** A refresh token was revoked. */
  readonly refreshToken: boolean
  /**
   * An access token was revoked; `false` also when the server does not revoke access tokens
   * (it answered `unsupported_token_type`, RFC 7009 §2.2.1).
   */
  readonly accessToken: boolean
}

/** What `provider.revoke()` revokes instead of the tokens the provider holds. */
export interface RevokeOptions {
  /** A token to revoke (e.g. one handed over by another process); the provider's own are kept unless it is one of them. */
  token?: string
  /** What `token` is (a hint: the server may look it up as the other type too). @default 'access_token' @see RFC 7009 §2.1 */
  tokenTypeHint?: 'access_token' | 'refresh_token'
}

/**
 * The tokens `provider.revoke(revokeOptions)` sends: the given one, else the ones held.
 * Throws `ConfigError` for a given token that is not a non-empty string or an unknown hint.
 */
export function tokensToRevoke(revokeOptions: RevokeOptions, held: HeldTokens): HeldTokens {
  const { token, tokenTypeHint = 'access_token' } = revokeOptions
  if (token === undefined) return held
  if (typeof token !== 'string' || token === '')
    throw new ConfigError('revoke(): token must be a non-empty string')
  if (tokenTypeHint !== 'access_token' && tokenTypeHint !== 'refresh_token')
    throw new ConfigError('revoke(): tokenTypeHint must be access_token or refresh_token')
  return tokenTypeHint === 'refresh_token' ? { refreshToken: token } : { accessToken: token }
}

/** The tokens a provider holds, or the ones to revoke. */
export interface HeldTokens {
  accessToken?: string | undefined
  refreshToken?: string | undefined
}

/** What `provider.revoke()` hands the revocation plug-in: its options, client and tokens. */
export interface RevocationContext {
  readonly options: ResolvedTokenProviderOptions
  readonly client: TokenEndpointClient
  /** The access and refresh token the provider holds (in memory, else in its store). */
  held(): Promise<HeldTokens>
  /** Drops a revoked access token (compare-and-invalidate). */
  invalidate(accessToken: string): Promise<boolean>
  /** The refresh token held was revoked: it is never redeemed, and the store forgets the grant. */
  forgetRefreshToken(refreshToken: string): Promise<void>
}

/** The parameters of a token request that mean nothing to a revocation endpoint. */
function tokenRequestOnly(options: ResolvedTokenProviderOptions): string[] {
  return ['scope', 'audience', 'resource', ...Object.keys(options.extraParams)]
}

/**
 * The revocation endpoint: the configured `revocationEndpoint`, else the server metadata's
 * (its `mtls_endpoint_aliases` one when the client authenticates with a TLS certificate).
 * Throws `ConfigError` when there is none.
 * @see RFC 7009 §2, RFC 8414 §2 (`revocation_endpoint`), RFC 8705 §5
 */
export async function revocationEndpointOf(
  options: ResolvedTokenProviderOptions,
  client: TokenEndpointClient,
): Promise<URL> {
  if (options.revocationEndpoint) return options.revocationEndpoint
  const { metadata, clientAuth } = await client.endpoint()
  const aliases = metadata?.mtls_endpoint_aliases as Record<string, unknown> | undefined
  // RFC 8705 §5 (as endpointFor() in discovery/mtls-aliases.ts, which a lazy module cannot import)
  const tls = clientAuth === 'tls_client_auth' || clientAuth === 'self_signed_tls_client_auth'
  const advertised = (tls && aliases?.revocation_endpoint) || metadata?.revocation_endpoint
  if (advertised === undefined)
    throw new ConfigError(
      'no revocation endpoint: set revocationEndpoint (or use an issuer whose metadata names one)',
    )
  return parseEndpoint('revocation_endpoint', advertised, options.allowInsecureHttp)
}

/**
 * Revokes `tokens` at the revocation endpoint: the refresh token first (a server revokes the
 * access tokens of its grant with it, RFC 7009 §2.1), then the access token, each with the
 * client authentication token requests use. A 2xx is success (unknown tokens too, §2.2); an
 * error body is `OAuthError`, anything else `TokenResponseError`, a network failure or timeout
 * `TokenRequestError`. No message names a token.
 * @see RFC 7009 §2.1, §2.2
 */
export async function revokeTokens(
  options: ResolvedTokenProviderOptions,
  client: TokenEndpointClient,
  tokens: HeldTokens,
): Promise<RevocationResult> {
  const result = { refreshToken: false, accessToken: false }
  if (tokens.refreshToken === undefined && tokens.accessToken === undefined) return result
  const url = await revocationEndpointOf(options, client)
  // the server issued every token the provider holds: revoking one, it may echo the other
  const held = {
    ...options,
    heldTokens: () => [...client.heldTokens(), tokens.refreshToken, tokens.accessToken],
  }
  const revoke = async (token: string, hint: 'refresh_token' | 'access_token') => {
    const prepared = await client.prepareFor(url, { token, token_type_hint: hint })
    const body = new URLSearchParams(await prepared.text())
    for (const name of tokenRequestOnly(options)) body.delete(name)
    const request = new Request(prepared.url, {
      method: 'POST',
      headers: prepared.headers,
      body,
      redirect: 'manual',
    })
    // the token being revoked is a secret a server may echo (see redaction/scrub.ts)
    rememberForm(request, body)
    return sendRequest(held, request, 'revocation', async (response) => {
      if (response.status >= 200 && response.status < 300) {
        void response.body?.cancel().catch(() => {})
        return true
      }
      try {
        await readJsonObject(response, options.maxResponseBytes, 'revocation')
      } catch (error) {
        // RFC 7009 §2.2.1: a server that cannot revoke access tokens says so; nothing to undo
        const unsupported = error instanceof OAuthError && error.error === 'unsupported_token_type'
        if (hint === 'access_token' && unsupported) return false
        throw error
      }
      return false
    })
  }
  if (tokens.refreshToken !== undefined)
    result.refreshToken = await revoke(tokens.refreshToken, 'refresh_token')
  if (tokens.accessToken !== undefined) result.accessToken = await revoke(tokens.accessToken, 'access_token')
  return result
}

/**
 * Token revocation (RFC 7009), for the `revocation` option: `provider.revoke()` needs it.
 * @see RFC 7009 §2
 * @example
 * import { revocation } from '@tokenwell/core/revocation'
 * const provider = createTokenProvider({ issuer, discovery, revocation, clientId, clientSecret })
 * await provider.revoke() // the refresh token, then the access token
 */
export const revocation: Revocation = Object.freeze({ revoke })

/**
 * `provider.revoke(revokeOptions)`: revokes the given token or the ones held, then drops the
 * access token and, when it was the one held, the refresh token (and the store's entry). When
 * revoking fails nothing is forgotten, so the call can be repeated.
 */
async function revoke(revokeOptions: RevokeOptions, context: RevocationContext): Promise<RevocationResult> {
  const held = await context.held()
  const tokens = tokensToRevoke(revokeOptions, held)
  const result = await revokeTokens(context.options, context.client, tokens)
  if (tokens.accessToken !== undefined) await context.invalidate(tokens.accessToken)
  // the grant (and what the store keeps of it) ends with its refresh token
  if (tokens.refreshToken !== undefined && tokens.refreshToken === held.refreshToken)
    await context.forgetRefreshToken(tokens.refreshToken)
  return result
}
