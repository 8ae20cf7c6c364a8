import type { AuthorizationCodeRecord } from './grants.js'
import { jsonResponse } from './oauth-response.js'
import { type AuthServerState, randomToken } from './state.js'

/** Authorization codes live this long, ms. RFC 6749 §4.1.2 recommends at most 10 minutes. */
const CODE_LIFETIME = 60_000

function redirectWith(redirectUri: string, params: Record<string, string | undefined>): Response {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value)
  return new Response(null, { status: 302, headers: { location: url.href, 'cache-control': 'no-store' } })
}

/**
 * The authorization endpoint, for tests: it approves at once (no login page) for the user named by
 * `login_hint`, or the first configured user, and redirects with `code`, `state` and `iss`.
 * Errors about the client or redirect URI are answered with 400 (never redirected, RFC 6749 §4.1.2.1);
 * others redirect with `error`. Public clients must use PKCE.
 * @see RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 9207 §2
 */
export function handleAuthorizeRequest(state: AuthServerState, request: Request): Response {
  const { options } = state
  state.stats.authorizeRequests++
  const query = new URL(request.url).searchParams
  const client = options.clients.get(query.get('client_id') ?? '')
  if (client === undefined)
    return jsonResponse({ error: 'invalid_request', error_description: 'unknown client_id' }, 400)
  const redirectUri = query.get('redirect_uri') ?? client.redirectUris?.[0]
  let redirectOk = redirectUri !== undefined && (client.redirectUris?.includes(redirectUri) ?? true)
  try {
    if (redirectUri !== undefined) new URL(redirectUri)
  } catch {
    redirectOk = false
  }
  if (!redirectOk || redirectUri === undefined) {
    return jsonResponse(
      { error: 'invalid_request', error_description: 'missing or unregistered redirect_uri' },
      400,
    )
  }
  const reply = { state: query.get('state') ?? undefined, iss: options.issuer }
  const fail = (error: string, description: string) =>
    redirectWith(redirectUri, { error, error_description: description, ...reply })
  if (query.get('response_type') !== 'code')
    return fail('unsupported_response_type', 'only response_type=code is supported')
  if (client.grantTypes !== undefined && !client.grantTypes.includes('authorization_code')) {
    return fail('unauthorized_client', 'client may not use authorization_code')
  }
  const challenge = query.get('code_challenge') ?? undefined
  const method = query.get('code_challenge_method') ?? 'plain'
  if (challenge === undefined && client.clientSecret === undefined) {
    return fail('invalid_request', 'public clients must use PKCE (code_challenge)')
  }
  if (method !== 'S256' && method !== 'plain')
    return fail('invalid_request', 'code_challenge_method must be S256 or plain')
  const requested = (query.get('scope') ?? '').split(' ').filter(Boolean)
  const allowed = [options.scopes, client.scopes]
  if (requested.some((scope) => allowed.some((list) => list !== undefined && !list.includes(scope)))) {
    return fail('invalid_scope', 'scope not allowed')
  }
  const user = options.users.get(query.get('login_hint') ?? '') ?? options.users.values().next().value
  if (user === undefined) return fail('access_denied', 'no user is configured')
  const code = randomToken()
  const record: AuthorizationCodeRecord = {
    clientId: client.clientId,
    // RFC 6749 §4.1.3: the token request must repeat redirect_uri when the authorization request had one
    redirectUri: query.get('redirect_uri') ?? undefined,
    scope: requested.length > 0 ? requested.join(' ') : client.scopes?.join(' '),
    sub: user.sub,
    username: user.username,
    codeChallenge: challenge,
    codeChallengeMethod: method,
    expiresAt: options.clock() + CODE_LIFETIME,
    used: false,
    issued: undefined,
  }
  state.codes.set(code, record)
  return redirectWith(redirectUri, { code, ...reply })
}
