import { asIs, scrubberFor } from './scrub.js'

/** Errors of a chain visited at most: a chain is short, and a cycle ends here too. */
const DEPTH = 8

/**
 * Removes `secrets` (in every form `scrubSecrets` finds them, once its scrubber loaded) and
 * `proofs` (DPoP proofs, as sent, and their signatures) from each string `error` holds as its own
 * property, enumerable or not, and so for the errors it was caused by (`cause`, an
 * `AggregateError`'s `errors`). For a client whose errors hold no request, only text (fetch: HTTP
 * errors are responses, but Node's `fetch failed` has as its cause undici's parser error, whose
 * `data` holds the bytes of a head it could not parse: a token the API echoed there): the walk
 * through every object `scrubSecrets` makes is not bundled. Returns `error`, changed in place.
 * @see DESIGN.md rule 5
 */
export function scrubCauses<E>(error: E, secrets: Iterable<string>, proofs: Iterable<string> = []): E {
  const list = [...secrets].filter((secret) => secret.length > 0)
  const sent = [...proofs].flatMap((proof) => (proof ? [proof, proof.slice(proof.lastIndexOf('.') + 1)] : []))
  if (list.length + sent.length === 0) return error
  const full = list.length > 0 ? scrubberFor(list) : asIs([])
  const asSent = asIs(sent)
  const redact = (text: string) => asSent(full(text))
  const seen = new Set<unknown>()
  const chain: unknown[] = [error]
  while (chain.length > 0 && seen.size < DEPTH) {
    const node = chain.pop() as Record<string, unknown>
    if (!(node instanceof Error) || seen.has(node) || Object.isFrozen(node)) continue
    seen.add(node)
    for (const key of Object.getOwnPropertyNames(node)) {
      try {
        const value = node[key]
        if (typeof value !== 'string') continue
        const safe = redact(value)
        if (safe !== value) node[key] = safe
      } catch {} // a getter that throws, a read-only property: nothing we made is either
    }
    chain.push(node.cause, ...(node instanceof AggregateError ? node.errors : []))
  }
  return error
}
