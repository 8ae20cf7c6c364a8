const REDACTED = '[redacted]'
/** Objects visited at most per error: a client error can reach sockets, agents and parsers. */
const BUDGET = 20_000

/**
 * Removes every occurrence of `secrets` from `value` and what it reaches (own properties,
 * string or symbol keyed, enumerable or not; `Map` entries): a header property named
 * `authorization` or `dpop` that holds one is deleted (so a retry library that re-sends the
 * request's config goes through the adapter again, which authorizes it anew), any other string
 * holding one has it replaced by `[redacted]` (Node's raw request head, a redirect's options).
 * Frozen objects (a `Token`, a `Grant`) are left alone. Returns `value`, changed in place. For errors a client hands back after the request ended.
 * @see DESIGN.md rule 5
 */
export function scrubSecrets<T>(value: T, secrets: Iterable<string>): T {
  const list = [...secrets].filter((secret) => secret.length > 0)
  if (list.length === 0 || value === null || typeof value !== 'object') return value
  const holds = (text: string) => list.some((secret) => text.includes(secret))
  const redact = (text: string) => list.reduce((out, secret) => out.split(secret).join(REDACTED), text)
  const seen = new Set<object>([value as object])
  const stack: object[] = [value as object]
  const visit = (child: unknown) => {
    if (child === null || typeof child !== 'object' || seen.has(child) || ArrayBuffer.isView(child)) return
    // frozen: a Token or Grant (they print redacted and must keep their values), or not ours to change
    if (Object.isFrozen(child)) return
    seen.add(child)
    stack.push(child)
  }
  while (stack.length > 0 && seen.size < BUDGET) {
    const node = stack.pop() as Record<PropertyKey, unknown>
    // a WHATWG Request keeps its headers in private state (Node 24's inspect prints them)
    if (typeof Request !== 'undefined' && node instanceof Request) scrubHeaders(node.headers, holds, redact)
    if (typeof Headers !== 'undefined' && node instanceof Headers) scrubHeaders(node, holds, redact)
    if (node instanceof Map) {
      for (const [key, entry] of node) {
        if (typeof entry === 'string' && holds(entry)) node.set(key, redact(entry))
        else visit(entry)
      }
    }
    for (const key of ownKeys(node)) {
      const descriptor = describe(node, key)
      if (!descriptor || !('value' in descriptor)) continue
      const entry = descriptor.value
      if (typeof entry !== 'string') {
        visit(entry)
        continue
      }
      if (!holds(entry)) continue
      try {
        const name = typeof key === 'string' ? key.toLowerCase() : ''
        if ((name === 'authorization' || name === 'dpop') && !Array.isArray(node)) delete node[key]
        else node[key] = redact(entry)
      } catch {
        // a frozen object keeps its value; nothing we created is frozen
      }
    }
  }
  return value
}

/** Drops `authorization`/`dpop` holding a secret from `headers`, redacts it elsewhere; immutable headers are left. */
function scrubHeaders(
  headers: Headers,
  holds: (text: string) => boolean,
  redact: (text: string) => string,
): void {
  for (const [name, value] of [...headers]) {
    if (!holds(value)) continue
    try {
      if (name === 'authorization' || name === 'dpop') headers.delete(name)
      else headers.set(name, redact(value))
    } catch {
      // a response's headers are immutable; they never carry the token we sent
    }
  }
}

function ownKeys(node: object): PropertyKey[] {
  try {
    return Reflect.ownKeys(node)
  } catch {
    return [] // a revoked proxy
  }
}

function describe(node: object, key: PropertyKey): PropertyDescriptor | undefined {
  try {
    return Object.getOwnPropertyDescriptor(node, key)
  } catch {
    return undefined
  }
}
