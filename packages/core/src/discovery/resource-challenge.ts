import type { AuthChallenge } from '../adapter/www-authenticate.js'

/**
 * The `resource_metadata` URL a resource server's 401 challenge names, for
 * `discoverProtectedResource({ resourceMetadata, resource })`: from a `Bearer` or `DPoP`
 * challenge, and only when it is an http(s) URL on the origin of `requestUrl` (the request that
 * was challenged). Anything else is ignored, `undefined`: a challenge must not point the client at
 * another server's metadata.
 * @see RFC 9728 §5.1, §7.3
 * @example
 * const url = resourceMetadataFromChallenges(parseWwwAuthenticate(header), request.url)
 * if (url) await discoverProtectedResource({ resourceMetadata: url, resource: configuredResource })
 */
export function resourceMetadataFromChallenges(
  challenges: readonly AuthChallenge[],
  requestUrl: string | URL,
): URL | undefined {
  let origin: string
  try {
    origin = new URL(requestUrl).origin
  } catch {
    return undefined
  }
  for (const challenge of challenges) {
    const scheme = challenge.scheme.toLowerCase()
    if (scheme !== 'bearer' && scheme !== 'dpop') continue
    const value = challenge.params.resource_metadata
    if (value === undefined || !URL.canParse(value)) continue
    const url = new URL(value)
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin && !url.hash)
      return url
  }
  return undefined
}
