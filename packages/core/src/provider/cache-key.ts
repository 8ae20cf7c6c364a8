import { sha256Hex } from '../crypto/hash.js'
import { GRANT_PARAMS, type Grant } from '../grants/grants.js'
import { withoutUndefined } from '../redact.js'
import type { TokenKeyInfo } from './events.js'
import type { ResolvedTokenProviderOptions } from './options.js'

/** The non-secret parts of what identifies a token, for events and logs. */
export function keyInfoOf(options: ResolvedTokenProviderOptions, discoveredEndpoint?: string): TokenKeyInfo {
  return Object.freeze(
    withoutUndefined({
      tokenEndpoint:
        discoveredEndpoint ??
        options.tokenEndpoint?.href ??
        options.issuer ??
        (options.protectedResource as string),
      issuer: options.issuer,
      clientId: options.clientId,
      grantType: options.grant.type,
      scope: options.scope,
      audience: options.audience,
      resource: options.resource.length > 0 ? options.resource : undefined,
    }) as TokenKeyInfo,
  )
}

/**
 * Who the token is for, beyond the client: the field each grant type needs (the user of a
 * password grant, the holder of a refresh token, the code, the assertion), or `null`.
 */
function subjectOf(grant: Grant, instance: string): unknown {
  const fields = grant as unknown as Record<string, unknown>
  const field = Object.values(GRANT_PARAMS[grant.type])[0]
  if (grant.type === 'urn:ietf:params:oauth:grant-type:token-exchange')
    return typeof grant.subjectToken === 'string' && typeof grant.actorToken !== 'function'
      ? [grant.subjectToken, grant.actorToken, grant.requestedTokenType]
      : instance
  // an assertion from a function may name anyone: such a provider shares its cache with no one
  return field === undefined ? null : typeof fields[field] === 'function' ? instance : fields[field]
}

/**
 * The cache key: a SHA-256 over everything that changes the token a server issues (endpoint or
 * issuer, client, grant and its subject, scope, audience, resource, extra params, and the DPoP
 * key a bound token works with). Leaving one out would hand one caller another caller's token.
 * Secret parts only ever enter the hash.
 */
export async function cacheKeyOf(
  options: ResolvedTokenProviderOptions,
  instance: string,
  dpopThumbprint?: string,
): Promise<string> {
  const scope = options.scope?.split(' ').sort().join(' ')
  const material = [
    'tokenwell/v1',
    // the issuer names the server as well as the endpoint it publishes, and needs no request
    options.tokenEndpoint?.href ??
      (options.issuer !== undefined ? `issuer:${options.issuer}` : `resource:${options.protectedResource}`),
    options.clientId,
    options.clientAuth,
    options.grant.type,
    subjectOf(options.grant, instance),
    scope ?? null,
    options.audience ?? null,
    [...options.resource].sort(),
    Object.entries(options.extraParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ...(dpopThumbprint !== undefined ? [`dpop:${dpopThumbprint}`] : []),
  ]
  return `tokenwell:${await sha256Hex(JSON.stringify(material))}`
}
