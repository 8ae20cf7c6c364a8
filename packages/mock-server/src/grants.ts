import { jwtBearerGrant, tokenExchangeGrant } from './assertion-grants.js'
import { deviceCodeGrant } from './device-grant.js'
import { type GrantHandler, grantScope, requireParam } from './grant-context.js'

export type { AuthorizationCodeRecord, GrantContext, GrantHandler, GrantResult } from './grant-context.js'

import { OAuthFailure } from './oauth-response.js'

/** S256 or plain. @see RFC 7636 §4.6 */
async function pkceMatches(verifier: string, challenge: string, method: string): Promise<boolean> {
  if (method === 'plain') return verifier === challenge
  const digest = new Uint8Array(
    await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  )
  const encoded = btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
  return encoded === challenge
}

/** The grant types the mock server supports, by their `grant_type` value. */
export const grantHandlers: Readonly<Record<string, GrantHandler>> = {
  // RFC 6749 §4.4: the client acts for itself; no refresh token (§4.4.3)
  client_credentials: (context) => ({ sub: context.client.clientId, scope: grantScope(context) }),

  // RFC 6749 §4.3
  password(context) {
    const username = requireParam(context.params, 'username')
    const password = requireParam(context.params, 'password')
    const user = context.options.users.get(username)
    if (user === undefined || user.password !== password) {
      throw new OAuthFailure('invalid_grant', 'invalid resource owner credentials')
    }
    return { sub: user.sub, username, scope: grantScope(context), refreshFamily: 'new' }
  },

  // RFC 6749 §6, RFC 9700 §4.14.2 (rotation and reuse detection)
  refresh_token(context) {
    const { registry, options, client, now } = context
    const record = registry.refreshToken(requireParam(context.params, 'refresh_token'))
    if (record === undefined || record.clientId !== client.clientId) {
      throw new OAuthFailure('invalid_grant', 'unknown refresh token')
    }
    if (record.spent) {
      if (context.counts()) context.stats.refreshTokenReuse++
      if (options.revokeRefreshTokenFamilyOnReuse) registry.revokeFamily(record.family)
      throw new OAuthFailure('invalid_grant', 'refresh token was already used')
    }
    if (registry.isRevoked(record)) throw new OAuthFailure('invalid_grant', 'refresh token was revoked')
    if (record.expiresAt <= now) throw new OAuthFailure('invalid_grant', 'refresh token expired')
    const scope = grantScope(context, record.scope)
    if (!options.rotateRefreshTokens)
      return { sub: record.sub, username: record.username, scope, aud: record.aud }
    record.spent = true
    return {
      sub: record.sub,
      username: record.username,
      scope,
      refreshScope: record.scope,
      aud: record.aud,
      refreshFamily: record.family,
    }
  },

  // RFC 6749 §4.1.3, RFC 7636 §4.6
  async authorization_code(context) {
    const { registry, client, now } = context
    const code = requireParam(context.params, 'code')
    const record = context.codes.get(code)
    if (record === undefined || record.clientId !== client.clientId) {
      throw new OAuthFailure('invalid_grant', 'unknown authorization code')
    }
    if (record.used) {
      // RFC 6749 §4.1.2: a replayed code revokes what it issued
      if (record.issued !== undefined) {
        const access = registry.accessToken(record.issued.jti)
        if (access !== undefined) access.revoked = true
        if (record.issued.family !== undefined) registry.revokeFamily(record.issued.family)
      }
      throw new OAuthFailure('invalid_grant', 'authorization code was already used')
    }
    record.used = true
    if (record.expiresAt <= now) throw new OAuthFailure('invalid_grant', 'authorization code expired')
    if (record.redirectUri !== undefined && context.params.get('redirect_uri') !== record.redirectUri) {
      throw new OAuthFailure('invalid_grant', 'redirect_uri does not match the authorization request')
    }
    if (record.codeChallenge !== undefined) {
      const verifier = context.params.get('code_verifier')
      if (!verifier || !(await pkceMatches(verifier, record.codeChallenge, record.codeChallengeMethod))) {
        throw new OAuthFailure('invalid_grant', 'PKCE verification failed')
      }
    }
    return {
      sub: record.sub,
      username: record.username,
      scope: record.scope,
      refreshFamily: 'new',
      onIssued: (issued) => {
        record.issued = issued
      },
    }
  },
  // RFC 8693 §2.1: an active token of this server for another audience
  'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchangeGrant,
  // RFC 7523 §2.1: an assertion signed by one of the client's keys
  'urn:ietf:params:oauth:grant-type:jwt-bearer': jwtBearerGrant,
  // RFC 8628 §3.4: polled until the user decides at /device (or approveDevice())
  'urn:ietf:params:oauth:grant-type:device_code': deviceCodeGrant,
}
