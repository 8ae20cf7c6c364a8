import { ConfigError } from '../errors.js'
import type { ClientAuthMethod, ResolvedTokenProviderOptions } from '../provider/options.js'
import type { HeldSecrets } from '../redaction/request-secrets.js'
import { rememberForm, scrubFailure } from '../redaction/scrub.js'
import { createToken, type Token, tokenToData } from '../token.js'
import { applyClientAuth } from './client-auth.js'
import { sendRequest } from './endpoint-exchange.js'
import { parseTokenResponse, rotatedRefreshToken } from './token-response.js'

/** What a token request needs beyond the options, worked out per request by `prepareTokenRequest`. */
export interface TokenRequestContext {
  /** The token endpoint (a discovered one). @default options.tokenEndpoint */
  tokenEndpoint?: URL
  /** The client authentication method (discovery may pick it). @default options.clientAuth */
  clientAuth?: ClientAuthMethod
  /** The signed JWT for `private_key_jwt` / `client_secret_jwt`. */
  clientAssertion?: string | undefined
  /** The DPoP proof for this request (`DPoP` header). @see RFC 9449 §5 */
  dpopProof?: string | undefined
}

/**
 * Builds the token request (no I/O): a POST of form parameters with client authentication.
 * Whatever needs I/O or signing (a discovered endpoint, a client assertion, a DPoP proof) comes
 * in `context`.
 * @see RFC 6749 §4.4.2, §3.3, RFC 8707 §2.1
 */
export function buildTokenRequest(
  options: ResolvedTokenProviderOptions,
  grantParams: Record<string, string>,
  context: TokenRequestContext = {},
): Request {
  const tokenEndpoint = context.tokenEndpoint ?? options.tokenEndpoint
  if (tokenEndpoint === undefined)
    throw new ConfigError('the token endpoint is not known yet (discover it from issuer first)')
  const body = new URLSearchParams(grantParams)
  if (options.scope !== undefined) body.set('scope', options.scope)
  if (options.audience !== undefined) body.set('audience', options.audience)
  for (const resource of options.resource) body.append('resource', resource)
  for (const [name, value] of Object.entries(options.extraParams)) body.set(name, value)
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
    accept: 'application/json',
  })
  const clientAuth = { ...options, clientAuth: context.clientAuth ?? options.clientAuth }
  applyClientAuth(clientAuth, headers, body, context.clientAssertion)
  if (context.dpopProof !== undefined) headers.set('dpop', context.dpopProof)
  const request = new Request(tokenEndpoint, { method: 'POST', headers, body, redirect: 'manual' })
  rememberForm(request, body)
  return request
}

/**
 * Sends one token request and parses the answer, within `timeout` ms (connect, headers and body).
 * Network failures and timeouts become `TokenRequestError`. Errors are scrubbed of the request's
 * secrets, the client's and the grant's, and `heldTokens`. `onRotated` hears first of a refresh
 * token that came in a 2xx answer refused as a token response (so it is held, and scrubbed too).
 */
export async function requestToken(
  options: ResolvedTokenProviderOptions &
    Pick<HeldSecrets, 'heldTokens'> & { onRotated?: ((refreshToken: string) => void) | undefined },
  request: Request,
): Promise<{ token: Token; response: Response }> {
  const sentAt = options.clock()
  return sendRequest(options, request, 'token', async (response) => {
    const token = await parseTokenResponse(response, {
      now: options.clock(),
      sentAt,
      defaultLifetime: options.defaultLifetime,
      requestedScope: options.scope,
      maxBytes: options.maxResponseBytes,
      // RFC 9449 §5: a DPoP-bound token comes with token_type DPoP
      tokenTypes: options.dpop ? ['Bearer', 'DPoP'] : ['Bearer'],
    }).catch((error: unknown) => {
      const rotated = rotatedRefreshToken(error)
      if (rotated !== undefined) options.onRotated?.(rotated)
      throw error
    })
    return { token: await withScrubbedScope(token, options, request), response }
  })
}

/**
 * `token`, its granted scope scrubbed of every secret of `request`, of `held` and of the token
 * itself when the scope holds a scope-token the client did not ask for: that is the server's
 * text, and a token prints its scope (rule 5). A scope of requested scope-tokens only (the
 * usual answer) is taken as it is, without loading the scrubber.
 */
async function withScrubbedScope(
  token: Token,
  held: HeldSecrets & { scope?: string | undefined },
  request: Request,
) {
  const asked = new Set(held.scope?.split(' '))
  if (token.scope === undefined || token.scope.split(' ').every((item) => asked.has(item))) return token
  const secrets = { ...held, heldTokens: () => [token.accessToken, token.refreshToken, token.idToken] }
  const scope = (await scrubFailure(token.scope, request, secrets)) as string
  return scope === token.scope ? token : createToken({ ...tokenToData(token), scope })
}
