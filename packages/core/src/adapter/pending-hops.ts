/** How long a redirect's next hop is awaited, ms: a client sends it at once. */
const WAIT = 2_000
/** Next hops awaited at most (the oldest goes first). */
const MOST = 64

/**
 * The next hops of redirect chains, for a client that sends each hop as a new request the adapter
 * cannot tell from any other (fetch, Node's global one too, through an undici dispatcher): `expect`
 * the URL a redirect leads to, and a request to it soon after (`take`, once) is that chain's hop,
 * which carries what the chain may carry, not a token of its own.
 */
export function createPendingHops(clock: () => number = Date.now) {
  const hops = new Map<string, number>()
  return {
    expect(href: string): void {
      if (hops.size >= MOST) hops.delete(hops.keys().next().value as string)
      hops.set(href, clock() + WAIT)
    },
    /** `href` is read only while a hop is awaited: most requests are none. */
    take(href: () => string): boolean {
      if (hops.size === 0) return false
      const key = href()
      const until = hops.get(key)
      if (until === undefined) return false
      hops.delete(key)
      return until >= clock()
    },
  }
}
