import { REDACTED } from '../redact.js'
import type { Grant } from './shape.js'

/** A Node `ClientRequest` as far as this reads it: its raw head, and its header map under a symbol. */
type Sent = Record<string | symbol, unknown>
/** Headers as a client keeps them by name (axios's `AxiosHeaders`, got's record, follow-redirects' options). */
type HeaderRecord = Record<string, unknown>
let outHeaders: symbol | undefined // Node's `kOutHeaders`, found on the first request

/**
 * What a client hands back with a response (or an error a retry starts from), without what
 * `grant` put on the request it answered, so that `console.log(response)` prints neither token
 * nor proof: the request's headers as the client keeps them (`headers`: axios's
 * `response.config.headers`, got's options' headers) lose them while they still hold the grant's
 * values, and so do the raw head and header map of the Node `ClientRequest` that sent it (`sent`,
 * or got's `Request` holding it; done with) and follow-redirects' options for its next hop. Only
 * those, never what the request leads to (its socket, the agent, the requests queued there,
 * which must go whole). A replay or a retry is authorized anew. Returns `answer`.
 * @see DESIGN.md rule 5
 */
export function quietAnswer<A>(
  answer: A,
  headers: object | undefined,
  sent: unknown,
  grant: Grant | null | undefined,
): A {
  if (grant?.authorization === undefined) return answer
  const values = grant.proof === undefined ? [grant.authorization] : [grant.authorization, grant.proof]
  blank(headers, values)
  const held = (sent as { _request?: unknown } | null)?._request // got's `Request` holds it
  const request = (held ?? sent) as Sent | null | undefined
  if (typeof request?._header !== 'string') return answer
  for (const value of values) request._header = (request._header as string).replaceAll(value, REDACTED)
  outHeaders ??= Object.getOwnPropertySymbols(request).find((key) => key.description === 'kOutHeaders')
  const map = (outHeaders && request![outHeaders]) as Record<string, [string, unknown]> | null | undefined
  for (const name of ['authorization', 'dpop']) {
    const entry = map?.[name]
    if (entry && values.includes(entry[1] as string)) map![name] = [entry[0], REDACTED]
  }
  // follow-redirects' (axios's) options for the next hop, which there is none of now
  blank((request._redirectable as { _options?: { headers?: HeaderRecord } })?._options?.headers, values)
  return answer
}

/**
 * Each value of `record` among `values` made `undefined`: blanked, not deleted. A client sends no
 * header it holds as `undefined` (axios, got; Node refuses one), and a deleted property turns the
 * object into one V8 reads slowly wherever it meets it (axios: 9% more instructions per request).
 */
function blank(record: object | null | undefined, values: readonly string[]): void {
  for (const name in record)
    if (values.includes((record as HeaderRecord)[name] as string)) (record as HeaderRecord)[name] = undefined
}
