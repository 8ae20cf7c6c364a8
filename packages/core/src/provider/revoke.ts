import type { RevocationContext, RevocationResult, RevokeOptions } from '../endpoint/revocation.js'
import type { TokenEndpointClient } from '../endpoint/token-endpoint.js'
import { ConfigError } from '../errors.js'
import type { Token } from '../token.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import type { TokenSource } from './token-source.js'

/** The revocation plug-in's side of the contract (`@tokenwell/core/revocation`). */
interface RevocationPlugin {
  revoke: (options: RevokeOptions, context: RevocationContext) => Promise<RevocationResult>
}

/**
 * The provider's `revoke()`: hands the revocation plug-in what the provider holds and how to
 * forget it. `ConfigError` when no plug-in is configured; most providers never revoke, and
 * bundle none of it.
 * @see RFC 7009 §2
 */
export async function revokeHeld(
  revokeOptions: RevokeOptions,
  options: ResolvedTokenProviderOptions,
  client: TokenEndpointClient,
  source: TokenSource,
  cacheKey: () => Promise<string>,
  invalidate: (token: Token | string) => Promise<boolean>,
): Promise<RevocationResult> {
  const plugin = options.revocation as RevocationPlugin | undefined
  if (!plugin) throw new ConfigError('revoke() needs revocation from @tokenwell/core/revocation')
  const { store } = options
  const { current, loop, storeCall } = source
  const key = await cacheKey()
  return plugin.revoke(revokeOptions, {
    options,
    client,
    async held() {
      const stored = current.get()?.entry ?? (await storeCall('get', () => store.get(key)))
      return {
        accessToken: stored?.token.accessToken,
        refreshToken: loop.refreshToken() ?? stored?.token.refreshToken,
      }
    },
    invalidate,
    async forgetRefreshToken(refreshToken) {
      loop.revoked(refreshToken)
      await storeCall('delete', () => store.delete(key))
    },
  })
}
