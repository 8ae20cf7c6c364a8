/**
 * The property a fetch wrapper (`withOAuth2`) carries with the fetch it wraps. Core's default
 * fetch for token requests unwraps it, so `globalThis.fetch = withOAuth2(provider)` never sends
 * a token request through the wrapper (which would wait for that very token).
 */
export const WRAPPED_FETCH: unique symbol = Symbol.for('tokenwell.wrappedFetch') as never

/** `fetch` without the wrappers that mark themselves with `WRAPPED_FETCH`. */
export function unwrapFetch<F>(fetch: F): F {
  let inner = fetch
  for (let depth = 0; depth < 8; depth++) {
    const next = (inner as { [WRAPPED_FETCH]?: F } | undefined)?.[WRAPPED_FETCH]
    if (typeof next !== 'function') break
    inner = next
  }
  return inner
}
