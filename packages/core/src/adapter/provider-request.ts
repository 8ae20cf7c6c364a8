import type { TokenProvider } from '../provider/token-provider.js'

/**
 * Whether a request to `origin` + `path` is `provider`'s own: its token endpoint, or discovery
 * (`/.well-known/…`) on its issuer's origin. An adapter that sits under the provider's own fetch
 * (an undici dispatcher set as the global one) lets those through untouched: a token request
 * that waited for a token would wait for itself. Reads no URL for a request to another origin.
 */
export function isProviderRequest(
  provider: TokenProvider,
  origin: string | undefined,
  path: string,
): boolean {
  const { tokenEndpoint, issuer } = provider.keyInfo
  if (origin === undefined || (!tokenEndpoint.startsWith(origin) && !issuer?.startsWith(origin))) return false
  const bare = path.split('?')[0]!
  if (bare.startsWith('/.well-known/') && issuer !== undefined && new URL(issuer).origin === origin)
    return true
  return `${origin}${bare}` === tokenEndpoint.split('?')[0]
}
