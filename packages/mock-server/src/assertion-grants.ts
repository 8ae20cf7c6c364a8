import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose'
import { type GrantContext, type GrantResult, grantScope, requireParam } from './grant-context.js'
import { OAuthFailure } from './oauth-response.js'

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
const SUBJECT_TYPES = [ACCESS_TOKEN, 'urn:ietf:params:oauth:token-type:jwt']

/** An access token this server issued that is still active, or `invalid_grant` naming `name`. */
function activeToken(context: GrantContext, token: string, name: string) {
  let jti: unknown
  let sub: unknown
  try {
    ;({ jti, sub } = decodeJwt(token))
  } catch {
    throw new OAuthFailure('invalid_grant', `${name} is not a token of this server`)
  }
  const record = typeof jti === 'string' ? context.registry.accessToken(jti) : undefined
  if (record === undefined || record.sub !== sub)
    throw new OAuthFailure('invalid_grant', `${name} is not a token of this server`)
  if (context.registry.isRevoked(record) || record.expiresAt <= context.now) {
    throw new OAuthFailure('invalid_grant', `${name} is expired or revoked`)
  }
  return record
}

/**
 * Token exchange: an active access token of this server (`subject_token`) becomes a new access
 * token for the requested `audience`/`resource`, with at most its scope; an `actor_token` adds
 * the `act` claim. Only access tokens are issued.
 * @see RFC 8693 §2.1, §2.2, §4.1
 */
export function tokenExchangeGrant(context: GrantContext): GrantResult {
  const { params } = context
  const subjectToken = requireParam(params, 'subject_token')
  const subjectType = requireParam(params, 'subject_token_type')
  if (!SUBJECT_TYPES.includes(subjectType))
    throw new OAuthFailure('invalid_request', 'unsupported subject_token_type')
  const requested = params.get('requested_token_type')
  if (requested !== null && requested !== ACCESS_TOKEN) {
    throw new OAuthFailure('invalid_request', 'only access tokens can be requested')
  }
  const subject = activeToken(context, subjectToken, 'subject_token')
  const actorToken = params.get('actor_token')
  let act: { sub: string } | undefined
  if (actorToken !== null) {
    if (!SUBJECT_TYPES.includes(params.get('actor_token_type') ?? '')) {
      throw new OAuthFailure('invalid_request', 'unsupported actor_token_type')
    }
    act = { sub: activeToken(context, actorToken, 'actor_token').sub }
  }
  return {
    sub: subject.sub,
    username: subject.username,
    scope: grantScope(context, subject.scope),
    ...(act !== undefined && { claims: { act } }),
    response: { issued_token_type: ACCESS_TOKEN },
  }
}

/**
 * JWT bearer grant: an assertion signed with one of the client's registered keys (`iss` = the
 * client id), for the subject it names (`sub`, a user's `sub` or username), audience the issuer
 * or the token endpoint.
 * @see RFC 7523 §2.1, §3
 */
export async function jwtBearerGrant(context: GrantContext): Promise<GrantResult> {
  const { client, options } = context
  const assertion = requireParam(context.params, 'assertion')
  if (client.jwks === undefined)
    throw new OAuthFailure('invalid_grant', 'client has no registered keys for assertions')
  let sub: string
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks as JSONWebKeySet), {
      issuer: client.clientId,
      audience: [options.issuer, `${options.issuer}/token`],
      requiredClaims: ['sub', 'exp'],
      currentDate: new Date(context.now),
      clockTolerance: 5,
    })
    sub = payload.sub as string
  } catch (thrown) {
    const code = (thrown as { code?: string }).code ?? 'invalid'
    throw new OAuthFailure('invalid_grant', `assertion rejected (${code})`)
  }
  const user = [...options.users.values()].find((u) => u.sub === sub || u.username === sub)
  return { sub: user?.sub ?? sub, username: user?.username, scope: grantScope(context) }
}
