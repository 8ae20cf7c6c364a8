import type { Scrubber } from './secret-scrubber.js'

/** Deeper than this, a value is replaced, not searched (a cause chain is rarely deeper than 3). */
const MAX_DEPTH = 12

/**
 * `value` with every text in it scrubbed. An error becomes a copy (same prototype, so
 * `instanceof`, `name` and `code` still work) whose message, stack, string fields, `cause`
 * chain and `errors` are scrubbed; an attached `Response` becomes one with scrubbed headers
 * and status text (no body: it was read); plain objects and arrays are copied, strings
 * scrubbed. An opaque object that could hold request or response bytes (a `Request`, a
 * `Buffer`, a `Map`) becomes `[Request]`, `[Buffer]`…. What needs no change is returned as is.
 */
export function scrubValue(value: unknown, scrub: Scrubber): unknown {
  const seen = new Map<object, unknown>()
  const visit = (input: unknown, depth: number): unknown => {
    if (typeof input === 'string') return scrub(input)
    if (typeof input !== 'object' || input === null) return input
    if (seen.has(input)) return seen.get(input)
    if (depth > MAX_DEPTH) return '[omitted]'
    seen.set(input, '[Circular]')
    const output = copyOf(input, (child) => visit(child, depth + 1), scrub)
    seen.set(input, output)
    return output
  }
  return visit(value, 0)
}

function copyOf(input: object, visit: (value: unknown) => unknown, scrub: Scrubber): unknown {
  if (input instanceof Error) return copyError(input, visit)
  if (Array.isArray(input)) {
    const items = input.map(visit)
    return items.some((item, i) => item !== input[i]) ? items : input
  }
  if (typeof Response !== 'undefined' && input instanceof Response) return scrubResponse(input, scrub)
  if (typeof Headers !== 'undefined' && input instanceof Headers) {
    const headers = scrubHeaders(input, scrub)
    return headers ?? input
  }
  if (input instanceof URL) return scrub(input.href) === input.href ? input : scrub(input.href)
  if (input instanceof Date) return input
  const proto = Object.getPrototypeOf(input)
  if (proto !== Object.prototype && proto !== null) return `[${proto?.constructor?.name || 'object'}]`
  let changed = false
  const copy: Record<PropertyKey, unknown> = {}
  for (const key of Reflect.ownKeys(input)) {
    const before = read(input, key)
    const after = visit(before)
    if (after !== before) changed = true
    copy[key] = after
  }
  return changed ? copy : input
}

/** A copy of `error` with scrubbed properties, or `error` itself when nothing in it needed scrubbing. */
function copyError(error: Error, visit: (value: unknown) => unknown): Error {
  let changed = false
  const descriptors: PropertyDescriptorMap = {}
  const keys: PropertyKey[] = Reflect.ownKeys(error)
  // a DOMException keeps these on its prototype, behind getters that only work on the original
  for (const key of ['name', 'message', 'stack']) if (!keys.includes(key)) keys.push(key)
  for (const key of keys) {
    const own = Object.getOwnPropertyDescriptor(error, key)
    const before = read(error, key)
    if (before === undefined && !own) continue
    const after = visit(before)
    if (after !== before) changed = true
    descriptors[key] = {
      value: after,
      writable: true,
      configurable: true,
      enumerable: own?.enumerable ?? false,
    }
  }
  if (!changed) return error
  // copying the prototype's getters would break them; an own message means the prototype has none
  const proto = Object.hasOwn(error, 'message') ? Object.getPrototypeOf(error) : Error.prototype
  return Object.create(proto, descriptors) as Error
}

function read(object: object, key: PropertyKey): unknown {
  try {
    return Reflect.get(object, key)
  } catch {
    return undefined
  }
}

function scrubHeaders(headers: Headers, scrub: Scrubber): Headers | undefined {
  let changed = false
  const copy = new Headers()
  headers.forEach((value, name) => {
    const safe = scrub(value)
    if (safe !== value) changed = true
    copy.append(name, safe)
  })
  return changed ? copy : undefined
}

/** The response without what it echoed in its headers or status text; `status` and the rest of its headers kept. */
function scrubResponse(response: Response, scrub: Scrubber): Response | undefined {
  const headers = scrubHeaders(response.headers, scrub)
  const statusText = scrub(response.statusText)
  if (!headers && statusText === response.statusText) return response
  try {
    return new Response(null, { status: response.status, statusText, headers: headers ?? response.headers })
  } catch {
    return undefined
  }
}
