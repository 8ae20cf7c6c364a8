import type { Attributes } from '@opentelemetry/api'
import type { TokenKeyInfo } from '@tokenwell/core'

/** OAuth error codes registered by RFC 6749 §5.2, RFC 8628 §3.5 and RFC 9449 §8: anything else is `other`. */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'temporarily_unavailable',
  'server_error',
  'access_denied',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_target',
])

/** tokenwell's error codes (DESIGN.md); another value of `code` is not ours and is not recorded. */
const CODES = new Set([
  'ERR_OAUTH',
  'ERR_TOKEN_RESPONSE',
  'ERR_TOKEN_REQUEST',
  'ERR_CONFIG',
  'ERR_DISCOVERY',
  'ERR_DPOP',
  'ERR_AUTHORIZATION',
  'ERR_INSECURE_HTTP',
  'ERR_STORE',
])

/**
 * The attributes every measurement of a provider carries: what the cache key says about it, none
 * of it secret (the endpoint's userinfo, query and fragment are left out).
 */
export function providerAttributes(key: TokenKeyInfo, extra: Attributes = {}): Attributes {
  const attributes: Attributes = { 'oauth.grant_type': key.grantType, 'oauth.client_id': key.clientId }
  try {
    const url = new URL(key.tokenEndpoint)
    attributes['server.address'] = url.hostname
    attributes['server.port'] = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    attributes['url.full'] = `${url.origin}${url.pathname}`
  } catch {}
  if (key.scope !== undefined) attributes['oauth.scope'] = key.scope
  if (key.audience !== undefined) attributes['oauth.audience'] = key.audience
  return { ...attributes, ...extra }
}

/**
 * What went wrong, in low-cardinality values only: the tokenwell `code` (`ERR_OAUTH`, …) or the
 * error's class name, the OAuth `error` when it is a registered code, and the HTTP status. Never
 * the message: a server may echo what it was sent into an error description. `_OTHER` is the
 * semantic conventions' value for an error of no known type.
 */
export function errorAttributes(error: unknown): Attributes {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown
    name?: unknown
    error?: unknown
    status?: unknown
  }
  const code = typeof e.code === 'string' && CODES.has(e.code) ? e.code : undefined
  // a class name such as TypeError or RedisStoreError; anything else (a store's own text) is not kept
  const name = typeof e.name === 'string' && /^([A-Z][A-Za-z]{0,30})?Error$/.test(e.name) ? e.name : '_OTHER'
  const attributes: Attributes = { 'error.type': code ?? name }
  if (typeof e.error === 'string') attributes['oauth.error'] = OAUTH_ERRORS.has(e.error) ? e.error : 'other'
  if (typeof e.status === 'number' && Number.isInteger(e.status))
    attributes['http.response.status_code'] = e.status
  return attributes
}
