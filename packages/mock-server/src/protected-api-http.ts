import type { AccessTokenClaims } from './access-token-verifier.js'
import type { ChallengeParams } from './protected-api-challenges.js'

/** A challenge's parts: RFC 6750 §3 attributes, and any other parameters. */
export type Challenge = { error?: string; description?: string; scope?: string; params?: ChallengeParams }

/** The `WWW-Authenticate: Bearer` value of `challenge`. @see RFC 6750 §3 */
export function challengeHeader(realm: string, challenge: Challenge): string {
  const parts = [`realm="${realm}"`]
  if (challenge.error !== undefined) parts.push(`error="${challenge.error}"`)
  if (challenge.description !== undefined) parts.push(`error_description="${challenge.description}"`)
  if (challenge.scope !== undefined) parts.push(`scope="${challenge.scope}"`)
  for (const [name, value] of Object.entries(challenge.params ?? {})) parts.push(`${name}="${value}"`)
  return `Bearer ${parts.join(', ')}`
}

/** The Bearer token of an `Authorization` header: `undefined` without one, `null` when malformed. */
export function bearerToken(authorization: string | null): string | null | undefined {
  if (authorization === null) return undefined
  // RFC 6750 §2.1: b64token after a case-insensitive "Bearer"
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization)
  if (match) return match[1]!
  return /^bearer(?: |$)/i.test(authorization) ? null : undefined
}

/** The echo route's answer: what the request carried, and who the token was for. */
export async function echo(
  request: Request,
  url: URL,
  claims: AccessTokenClaims | undefined,
): Promise<Response> {
  const bytes = new Uint8Array(await request.arrayBuffer())
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return Response.json({
    method: request.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType: request.headers.get('content-type'),
    bodyBase64: btoa(binary),
    authorized: claims !== undefined,
    ...(claims !== undefined && {
      sub: claims.sub,
      clientId: claims.client_id,
      scope: claims.scope,
      tokenId: claims.jti,
    }),
  })
}
