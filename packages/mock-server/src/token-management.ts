import { authenticateClient } from './client-auth.js'
import { failureResponse, jsonResponse, OAuthFailure } from './oauth-response.js'
import type { AuthServerState } from './state.js'
import { clientAuthInput, readForm } from './token-endpoint.js'

type Verify = (token: string) => Promise<Record<string, unknown> | undefined>

/** Reads a POSTed form and authenticates its client, as the token endpoint does. */
async function authenticatedForm(state: AuthServerState, request: Request) {
  if (request.method !== 'POST')
    throw new OAuthFailure('invalid_request', 'this endpoint takes POST', {
      status: 405,
      headers: { allow: 'POST' },
    })
  const params = await readForm(request)
  const { client } = await authenticateClient(clientAuthInput(state, request, params))
  const token = params.get('token')
  if (!token) throw new OAuthFailure('invalid_request', 'missing parameter: token')
  return { client, token, hint: params.get('token_type_hint') }
}

/**
 * Token introspection: `{ active: false }` for anything not valid now, otherwise the token's metadata.
 * Access tokens and refresh tokens are both recognized; a client only sees its own tokens.
 * @see RFC 7662 §2
 */
export async function handleIntrospection(
  state: AuthServerState,
  request: Request,
  verify: Verify,
): Promise<Response> {
  state.stats.introspectionRequests++
  try {
    const { client, token } = await authenticatedForm(state, request)
    const { registry, options } = state
    const claims = await verify(token)
    if (claims !== undefined && claims.client_id === client.clientId) {
      return jsonResponse({ active: true, token_type: 'Bearer', ...claims })
    }
    const refresh = registry.refreshToken(token)
    if (
      refresh !== undefined &&
      refresh.clientId === client.clientId &&
      !refresh.spent &&
      !registry.isRevoked(refresh) &&
      refresh.expiresAt > options.clock()
    ) {
      return jsonResponse({
        active: true,
        token_type: 'refresh_token',
        iss: options.issuer,
        sub: refresh.sub,
        aud: refresh.aud,
        client_id: refresh.clientId,
        iat: Math.floor(refresh.issuedAt / 1000),
        exp: Math.floor(refresh.expiresAt / 1000),
        ...(refresh.scope !== undefined && { scope: refresh.scope }),
        ...(refresh.username !== undefined && { username: refresh.username }),
      })
    }
    return jsonResponse({ active: false })
  } catch (thrown) {
    return failureResponse(thrown)
  }
}

/**
 * Token revocation: revokes an access token, or a refresh token with its whole family. Unknown
 * tokens still get 200 (RFC 7009 §2.2); another client's token is refused with `unauthorized_client`.
 * @see RFC 7009 §2.1
 */
export async function handleRevocation(
  state: AuthServerState,
  request: Request,
  verify: Verify,
): Promise<Response> {
  state.stats.revocationRequests++
  try {
    const { client, token } = await authenticatedForm(state, request)
    const { registry } = state
    const refresh = registry.refreshToken(token)
    const claims = refresh === undefined ? await verify(token) : undefined
    const owner = refresh?.clientId ?? claims?.client_id
    if (owner !== undefined && owner !== client.clientId) {
      throw new OAuthFailure('unauthorized_client', 'the token was issued to another client')
    }
    if (refresh !== undefined) registry.revokeFamily(refresh.family)
    const record = typeof claims?.jti === 'string' ? registry.accessToken(claims.jti) : undefined
    if (record !== undefined) record.revoked = true
    return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } })
  } catch (thrown) {
    return failureResponse(thrown)
  }
}
