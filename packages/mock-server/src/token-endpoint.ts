import { authenticateClient, type ClientAuthInput, claimedClient, clientAuthMethods } from './client-auth.js'
import { clientCertificateOf } from './client-certificate.js'
import { dpopStateOf, verifyDpopProof } from './dpop-proof.js'
import { echoOf, faultResponse } from './faults.js'
import { type GrantContext, type GrantResult, grantHandlers } from './grants.js'
import { errorResponse, jsonResponse, OAuthFailure } from './oauth-response.js'
import type { ResolvedClient } from './options.js'
import { requestedClaims } from './requested-claims.js'
import { type AuthServerState, delay, randomToken } from './state.js'
import { bump, countsNow, redactParams, type TokenRequestLogEntry } from './stats.js'

/** Parameters that may repeat (RFC 8707 §2 `resource`, RFC 8693 §2.1 `audience`); RFC 6749 §3.2 forbids repeating others. */
const REPEATABLE = new Set(['resource', 'audience'])

/** Reads a form body, or throws `invalid_request`. @see RFC 6749 §3.2 */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  const text = await request.text()
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthFailure('invalid_request', 'the body must be application/x-www-form-urlencoded')
  }
  const params = new URLSearchParams(text)
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (seen.has(name) && !REPEATABLE.has(name))
      throw new OAuthFailure('invalid_request', `repeated parameter: ${name}`)
    seen.add(name)
  }
  return params
}

/** The client-auth input of a request to one of the server's endpoints. */
export function clientAuthInput(
  state: AuthServerState,
  request: Request,
  params: URLSearchParams,
): ClientAuthInput {
  return {
    authorization: request.headers.get('authorization'),
    params,
    clients: state.options.clients,
    endpoint: request.url,
    issuer: state.options.issuer,
    now: state.options.clock(),
    clientCertificate: clientCertificateOf(request),
  }
}

/** `audience` and `resource` parameters, if any. @see RFC 8707 §2, RFC 8693 §2.1 */
function requestedAudience(params: URLSearchParams): string | string[] | undefined {
  const all = [...params.getAll('audience'), ...params.getAll('resource')]
  return all.length === 0 ? undefined : all.length === 1 ? all[0] : all
}

/** Signs the access token, stores the refresh token, and builds the RFC 6749 §5.1 body. */
async function issueTokens(
  state: AuthServerState,
  client: ResolvedClient,
  params: URLSearchParams,
  result: GrantResult,
): Promise<Record<string, unknown>> {
  const { options, registry, key } = state
  const now = options.clock()
  if (++state.issued % 1024 === 0) registry.prune(now)
  const lifetime = state.tokenLifetime
  const iat = Math.floor(now / 1000)
  const jti = globalThis.crypto.randomUUID()
  const aud = result.aud ?? requestedAudience(params) ?? client.audience ?? options.audience
  const accessToken = await key.sign({
    iss: options.issuer,
    sub: result.sub,
    aud,
    iat,
    exp: iat + lifetime,
    jti,
    client_id: client.clientId,
    ...(result.scope !== undefined && { scope: result.scope }),
    ...(result.username !== undefined && { username: result.username }),
    ...requestedClaims(params),
    ...result.claims,
  })
  const common = {
    clientId: client.clientId,
    sub: result.sub,
    scope: result.scope,
    aud,
    username: result.username,
  }
  registry.addAccessToken({ ...common, jti, issuedAt: now, expiresAt: (iat + lifetime) * 1000 })
  let refreshToken: string | undefined
  let family: string | undefined
  if (result.refreshFamily !== undefined) {
    refreshToken = randomToken()
    family = result.refreshFamily === 'new' ? globalThis.crypto.randomUUID() : result.refreshFamily
    const expiresAt = now + options.refreshTokenLifetime * 1000
    const scope = 'refreshScope' in result ? result.refreshScope : result.scope
    registry.addRefreshToken(refreshToken, { ...common, scope, family, issuedAt: now, expiresAt })
  }
  result.onIssued?.({ jti, family })
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: lifetime,
    ...(result.scope !== undefined && { scope: result.scope }),
    ...(refreshToken !== undefined && { refresh_token: refreshToken }),
    ...result.response,
  }
}

/**
 * The token endpoint: client authentication, then the grant's function from `grantHandlers`.
 * Counts every POST, logs it without secrets, and applies injected faults and latency first.
 * @see RFC 6749 §3.2, §5
 */
export async function handleTokenRequest(state: AuthServerState, request: Request): Promise<Response> {
  if (request.method !== 'POST') {
    return errorResponse(
      new OAuthFailure('invalid_request', 'the token endpoint takes POST', {
        status: 405,
        headers: { allow: 'POST' },
      }),
    )
  }
  const { stats, options } = state
  stats.tokenRequests++
  const entry: TokenRequestLogEntry = {
    grantType: undefined,
    clientId: undefined,
    clientAuth: undefined,
    params: {},
    status: 0,
    at: options.clock(),
  }
  state.log.push(entry)
  let params: URLSearchParams | undefined
  let failure: unknown
  try {
    params = await readForm(request)
  } catch (thrown) {
    failure = thrown
  }
  if (params !== undefined) {
    entry.params = redactParams(params)
    entry.grantType = params.get('grant_type') ?? undefined
    const claimed = claimedClient(clientAuthInput(state, request, params))
    entry.clientId = claimed.clientId
    entry.clientAuth = claimed.method
    bump(stats.byGrant, entry.grantType)
    bump(stats.byClient, entry.clientId)
  }
  await delay(state.latency)
  const fault = state.faults.take()
  let response: Response
  if (fault !== undefined) {
    response = faultResponse(fault, fault.echo ? echoOf(request, params) : undefined)
    entry.error = 'fault'
  } else {
    try {
      if (params === undefined) throw failure
      response = jsonResponse(await runGrant(state, request, params, () => countsNow(entry)))
      if (countsNow(entry)) stats.tokensIssued++
    } catch (thrown) {
      const oauth =
        thrown instanceof OAuthFailure ? thrown : new OAuthFailure('server_error', 'unexpected failure')
      response = errorResponse(oauth)
      entry.error = oauth.error
    }
  }
  entry.status = response.status
  if (countsNow(entry)) bump(stats.byError, entry.error)
  return response
}

async function runGrant(
  state: AuthServerState,
  request: Request,
  params: URLSearchParams,
  counts: () => boolean,
): Promise<Record<string, unknown>> {
  // RFC 9449 §5: the proof is checked (and a nonce demanded) before anything is spent
  const jkt = request.headers.has('dpop')
    ? await verifyDpopProof(request, dpopStateOf(state, state.options.dpopNonce), state.options.clock())
    : undefined
  const { client } = await authenticateClient(clientAuthInput(state, request, params))
  const grantType = params.get('grant_type')
  if (!grantType) throw new OAuthFailure('invalid_request', 'missing parameter: grant_type')
  const handler = Object.hasOwn(grantHandlers, grantType) ? grantHandlers[grantType] : undefined
  if (handler === undefined)
    throw new OAuthFailure('unsupported_grant_type', `unsupported grant_type: ${grantType}`)
  if (client.grantTypes !== undefined && !client.grantTypes.includes(grantType)) {
    throw new OAuthFailure('unauthorized_client', `client may not use grant_type ${grantType}`)
  }
  const context: GrantContext = {
    params,
    client,
    options: state.options,
    registry: state.registry,
    codes: state.codes,
    devices: state.devices,
    now: state.options.clock(),
    request,
    stats: state.stats,
    counts,
  }
  const result = await handler(context)
  // RFC 8705 §3.1: a token requested over mutual TLS is bound to the client certificate
  const x5t = clientCertificateOf(request)?.thumbprint
  const bound = { ...(jkt !== undefined && { jkt }), ...(x5t !== undefined && { 'x5t#S256': x5t }) }
  if (jkt === undefined && x5t === undefined) return issueTokens(state, client, params, result)
  // RFC 9449 §6: the token is bound to the proof key and says so
  return issueTokens(state, client, params, {
    ...result,
    claims: { ...result.claims, cnf: bound },
    ...(jkt !== undefined && { response: { ...result.response, token_type: 'DPoP' } }),
  })
}

/** Names for discovery metadata. @see RFC 8414 §2 */
export const supportedGrantTypes = (): string[] => Object.keys(grantHandlers)
export const supportedClientAuthMethods = (): string[] => Object.keys(clientAuthMethods)
