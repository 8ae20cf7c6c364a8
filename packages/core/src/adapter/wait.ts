import { TokenRequestError } from '../errors.js'
import type { TokenProvider } from '../provider/token-provider.js'
import type { Token } from '../token.js'

/** How long a request waits for its token: the caller's signal and the client's own timeout. */
export interface TokenWait {
  /** Ends this wait only; the token request others await goes on. */
  signal?: AbortSignal | undefined
  /**
   * The client's request timeout, ms (axios `timeout`, got `timeout.request`); past it the wait
   * rejects with `TokenRequestError`. `0` or absent: no bound beyond the provider's `timeout`.
   */
  timeout?: number | undefined
}

/**
 * The provider's token within `wait`: `undefined` when the caller's signal aborted the wait (the
 * client then fails the request with its own abort error, sending nothing), `TokenRequestError`
 * past the timeout. The token request goes on for everyone else. `call`: the per-call scope
 * and claims of a step-up (see `GetTokenOptions`).
 */
export async function waitForToken(
  provider: TokenProvider,
  wait: TokenWait,
  call?: { scope?: string; claims?: string },
): Promise<Token | undefined> {
  const { signal, timeout } = wait
  try {
    const get = provider.getToken({ ...(signal && { signal }), ...call })
    if (timeout === undefined || timeout <= 0 || !Number.isFinite(timeout)) return await get
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TokenRequestError(`no token within the request timeout (${timeout} ms)`)),
        timeout,
      )
    })
    return await Promise.race([get, late]).finally(() => clearTimeout(timer))
  } catch (error) {
    if (signal?.aborted) return undefined
    throw error
  }
}
