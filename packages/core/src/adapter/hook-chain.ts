import type { Grant } from './shape.js'

/** A hook of ours in a client option that holds one function: it runs `theirs` after it. */
export type ChainedHook<A extends unknown[]> = ((...args: A) => void) & {
  readonly ours: true
  readonly theirs: ((...args: A) => void) | undefined
}

/**
 * Hooks for a client option that holds one function (axios's `beforeRedirect`): each runs `ours`
 * with its grant, then the hook the caller had there. Given one of ours, the hook it wraps is the
 * caller's (no chain grows over a request's sends); one with no hook of the caller's is made once
 * per grant.
 */
export function createHookChain<A extends unknown[]>(
  ours: (grant: Grant, ...args: A) => void,
): (grant: Grant, current: ((...args: A) => void) | undefined) => ChainedHook<A> {
  const alone = new WeakMap<Grant, ChainedHook<A>>()
  return (grant, current) => {
    const theirs = (current as Partial<ChainedHook<A>> | undefined)?.ours
      ? (current as ChainedHook<A>).theirs
      : current
    const made = theirs ? undefined : alone.get(grant)
    if (made) return made
    const run = (...args: A) => {
      ours(grant, ...args)
      theirs?.(...args)
    }
    const hook = Object.assign(run, { ours: true as const, theirs })
    if (!theirs) alone.set(grant, hook)
    return hook
  }
}
