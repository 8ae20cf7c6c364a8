import { dropGrantHeaders } from './last-word.js'
import type { Grant } from './shape.js'
import type { HeaderValue } from './www-authenticate.js'

/** A header name or value as a flat list holds it: a string, or bytes that read as latin1 (a `Buffer`). */
type RawValue = string | { toString(encoding: 'latin1'): string }

/** A request's headers in the forms undici and node take: a record, a flat `[name, value, …]` list, or pairs. */
export type RequestHeaders =
  | Readonly<Record<string, unknown>>
  | readonly unknown[]
  | Iterable<readonly unknown[]>

/**
 * One header of a flat `[name, value, …]` list (node's `rawHeaders`, undici's raw headers), by
 * lower-case name, read as latin1 as undici's `parseHeaders` does: a string, or every value in
 * order when it came more than once (or as a list).
 */
export function rawHeader(list: readonly (RawValue | readonly RawValue[])[], name: string): HeaderValue {
  let found: string | string[] | undefined
  for (let i = 0; i + 1 < list.length; i += 2) {
    if ((list[i] as RawValue).toString('latin1').toLowerCase() !== name) continue
    const value = list[i + 1]!
    const one = Array.isArray(value)
      ? value.map((v: RawValue) => v.toString('latin1'))
      : (value as RawValue).toString('latin1')
    found = found === undefined ? one : [...(typeof found === 'string' ? [found] : found)].concat(one)
  }
  return found
}

/** `headers` as a flat `[name, value, …]` list (pairs flattened: a name is never a list), or the record itself. */
function listOf(headers: RequestHeaders): readonly unknown[] | Readonly<Record<string, unknown>> {
  if (Array.isArray(headers) ? !Array.isArray(headers[0]) : !(Symbol.iterator in headers))
    return headers as readonly unknown[] | Readonly<Record<string, unknown>>
  return [...(headers as Iterable<unknown[]>)].flat()
}

const isAuthorization = (name: unknown) => String(name).toLowerCase() === 'authorization'

/** Whether `headers` (any form: a fetch `Headers` too; names in any case) carry an `Authorization` header. */
export function hasAuthorization(headers: RequestHeaders | Headers | null | undefined): boolean {
  if (headers == null) return false
  if (typeof Headers === 'function' && headers instanceof Headers) return headers.has('authorization')
  const list = listOf(headers as RequestHeaders)
  if (!Array.isArray(list)) return Object.keys(list).some(isAuthorization)
  return list.some((name, i) => i % 2 === 0 && isAuthorization(name))
}

const NONE: unknown[] = []

/**
 * A copy of `headers` with what `grant` sends added (`authorization`, and `dpop` for a proof), in
 * their form: a flat list for a list or pairs, else a record. `headers` never change.
 */
export function withGrantHeaders(
  headers: RequestHeaders | null | undefined,
  { authorization, proof }: Grant,
): unknown[] | Record<string, unknown> {
  const list = headers ? listOf(headers) : undefined
  const dpop = proof === undefined ? NONE : ['dpop', proof]
  if (Array.isArray(list)) return [...list, 'authorization', authorization, ...dpop]
  return proof === undefined ? { ...list, authorization } : { ...list, authorization, dpop: proof }
}

/**
 * Puts what `grant` sends on a record of lower-case header names (got's): its `authorization` and
 * `dpop` proof; each one `before` (the grant of the send before) put there and `grant` no longer
 * sends is taken off, where it still holds that value (a caller's own header stays).
 */
export function putGrantHeaders(headers: Record<string, unknown>, grant: Grant, before?: Grant): void {
  if (before !== undefined) dropGrantHeaders(headers, before)
  if (grant.authorization !== undefined) headers.authorization = grant.authorization
  if (grant.proof !== undefined) headers.dpop = grant.proof
}
