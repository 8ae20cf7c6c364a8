import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import type { ClientAuthInput, ClientAuthMethodHandler } from './client-auth-types.js'
import { OAuthFailure } from './oauth-response.js'
import type { ResolvedClient } from './options.js'

/** `client_assertion_type` of JWT client authentication. @see RFC 7523 §2.2 */
export const JWT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const HMAC = ['HS256', 'HS384', 'HS512']
const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]

/** Assertion ids seen by one server (keyed by its client table) until they expire: a replay fails. */
const seen = new WeakMap<object, Map<string, number>>()

function assertionOf(input: ClientAuthInput): string | undefined {
  if (input.params.get('client_assertion_type') !== JWT_ASSERTION_TYPE) return undefined
  return input.params.get('client_assertion') ?? undefined
}

function algorithmOf(assertion: string): string | undefined {
  try {
    return decodeProtectedHeader(assertion).alg
  } catch {
    return undefined
  }
}

function subjectOf(assertion: string | undefined): string | undefined {
  try {
    const sub = assertion === undefined ? undefined : decodeJwt(assertion).sub
    return typeof sub === 'string' ? sub : undefined
  } catch {
    return undefined
  }
}

/** The audiences a client assertion may name: the issuer or the endpoint called. @see RFC 7523 §3 item 3 */
export function assertionAudiences(issuer: string, endpoint: string): string[] {
  const url = new URL(endpoint)
  return [issuer, `${url.origin}${url.pathname}`]
}

/** The verification key of a client: its registered JWKs, or its secret for HMAC. */
export function clientJwks(client: ResolvedClient): ReturnType<typeof createLocalJWKSet> {
  if (client.jwks === undefined)
    throw new OAuthFailure('invalid_client', 'client has no registered keys (jwks)')
  return createLocalJWKSet(client.jwks as JSONWebKeySet)
}

/**
 * `private_key_jwt` (verified with the client's registered `jwks`) or `client_secret_jwt` (HMAC with
 * its secret). Checks `iss` = `sub` = client id, `aud` (issuer or endpoint), `exp`, and that the
 * `jti` was not used before.
 * @see RFC 7523 §2.2, §3; OpenID Connect Core 1.0 §9
 */
export function jwtClientAuth(kind: 'private_key_jwt' | 'client_secret_jwt'): ClientAuthMethodHandler {
  const algorithms = kind === 'client_secret_jwt' ? HMAC : ASYMMETRIC
  return {
    detect(input) {
      const assertion = assertionOf(input)
      const alg = assertion === undefined ? undefined : algorithmOf(assertion)
      return alg !== undefined && algorithms.includes(alg)
    },
    claimedClientId: (input) => input.params.get('client_id') ?? subjectOf(assertionOf(input)),
    async authenticate(input) {
      const assertion = assertionOf(input) ?? ''
      const clientId = subjectOf(assertion)
      const client = clientId === undefined ? undefined : input.clients.get(clientId)
      if (client === undefined) throw new OAuthFailure('invalid_client', 'unknown client')
      const bodyId = input.params.get('client_id')
      if (bodyId !== null && bodyId !== client.clientId) {
        throw new OAuthFailure('invalid_client', 'client_id differs from the client assertion subject')
      }
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
      try {
        const options = {
          issuer: client.clientId,
          subject: client.clientId,
          audience: assertionAudiences(input.issuer, input.endpoint),
          algorithms,
          requiredClaims: ['exp', 'jti'],
          currentDate: new Date(input.now),
          clockTolerance: 5,
        }
        if (kind === 'client_secret_jwt') {
          if (client.clientSecret === undefined)
            throw new OAuthFailure('invalid_client', 'client has no secret')
          payload = (await jwtVerify(assertion, new TextEncoder().encode(client.clientSecret), options))
            .payload
        } else {
          payload = (await jwtVerify(assertion, clientJwks(client), options)).payload
        }
      } catch (thrown) {
        if (thrown instanceof OAuthFailure) throw thrown
        const code = (thrown as { code?: string }).code ?? 'invalid'
        throw new OAuthFailure('invalid_client', `client assertion rejected (${code})`)
      }
      const jtis = seen.get(input.clients) ?? new Map<string, number>()
      seen.set(input.clients, jtis)
      for (const [jti, until] of jtis) if (until < input.now) jtis.delete(jti)
      const key = `${client.clientId} ${payload.jti}`
      if (jtis.has(key)) throw new OAuthFailure('invalid_client', 'client assertion was already used (jti)')
      jtis.set(key, (payload.exp ?? 0) * 1000 + 5_000)
      return client
    },
  }
}
