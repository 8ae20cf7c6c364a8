import type { Scrubber } from '../redaction/secret-scrubber.js'
import { scrubHeaders, scrubResponse, stillSending } from './scrub-objects.js'

const REDACTED = '[redacted]'
/**
 * Objects visited at most per error: a client error can reach sockets, agents and parsers. Plain
 * objects and arrays (a parsed body, options, headers) are visited first and apart: a body holds
 * as many as the client parsed, far more than this, and is where a server echoes a secret.
 */
const BUDGET = 20_000
/** Plain objects and arrays visited at most per error (a parsed JSON body of about 20 MB). */
const PLAIN_BUDGET = 1_000_000

type ScrubberModule = typeof import('../redaction/secret-scrubber.js')
let scrubbers: ScrubberModule | undefined
let loading: Promise<void> | undefined
/** The scrubber for the last list of secrets (a protocol scrubs with the same few tokens). */
let cached: { key: string; scrub: Scrubber } | undefined

/**
 * Loads core's secret scrubber for `scrubSecrets`, once: `undefined` when it has loaded, else
 * the promise of it. Until then `scrubSecrets` finds a secret only as is; the protocol hands
 * out no token before it has loaded.
 */
export function loadScrubber(): Promise<void> | undefined {
  if (scrubbers) return undefined
  // a failed load leaves the as-is search: a request is never failed for it
  loading ??= import('../redaction/secret-scrubber.js').then(
    (module) => {
      scrubbers = module
    },
    () => {},
  )
  return loading
}

/** A scrubber that finds each of `list` only as it is. */
export const asIs =
  (list: readonly string[]): Scrubber =>
  (text) =>
    list.reduce((out, secret) => out.split(secret).join(REDACTED), text)

/** A scrubber for `list`: core's (every form of a secret and its 12-character pieces) once loaded. */
export function scrubberFor(list: readonly string[]): Scrubber {
  if (!scrubbers) return asIs(list)
  const key = list.join('\u0000')
  if (cached?.key !== key) cached = { key, scrub: scrubbers.createScrubber(list) }
  return cached.scrub
}

/** Whether `text` holds one of `secrets` (none empty), in a form `scrubSecrets` finds. */
export function holdsSecret(text: string, secrets: Iterable<string>): boolean {
  return scrubberFor([...secrets])(text) !== text
}

/**
 * Removes every occurrence of `secrets` from `value` and what it reaches (own properties,
 * string or symbol keyed, enumerable or not; `Map` entries): a header property named
 * `authorization` or `dpop` that holds one is deleted (so a retry library that re-sends the
 * request's config goes through the adapter again, which authorizes it anew), any other string
 * holding one has it replaced (Node's raw request head, a redirect's options, a response body or
 * header that echoed it). Once `loadScrubber` has loaded core's scrubber, a secret is found in
 * every form a server may echo it in (percent-encoded, JSON-escaped, base64…) and by its
 * 12-character pieces (an echo cut short), as in the provider's own errors; before, as is only.
 * `sentAsIs` are DPoP proofs, one per send (a scrubber for all of them would cost more than the
 * error): those `value` holds as sent (the client's own objects do) are then looked for again by
 * their signature in every form, as the secrets are (an API may echo one base64-encoded or cut);
 * so are those of `echoed`, proofs the client's objects no longer hold as sent. Frozen objects (a
 * `Token`, a `Grant`) are left alone. Returns `value`, changed in place. For errors a client hands
 * back after the request ended.
 * @see DESIGN.md rule 5
 */
export function scrubSecrets<T>(
  value: T,
  secrets: Iterable<string>,
  sentAsIs: Iterable<string> = [],
  echoed: Iterable<string> = [],
): T {
  const list = [...secrets].filter((secret) => secret.length > 0)
  const proofs = [...sentAsIs].filter((secret) => secret.length > 0)
  if (list.length + proofs.length === 0 || value === null || typeof value !== 'object') return value
  const full = scrubberFor(list)
  const held = new Set<string>(echoed)
  const sent: Scrubber = (text) =>
    proofs.reduce((out, proof) => (out.includes(proof) && held.add(proof) ? asIs([proof])(out) : out), text)
  walk(value, (text) => sent(full(text)), full.hidden)
  const signatures = [...held].map((proof) => proof.slice(proof.lastIndexOf('.') + 1))
  const again = signatures.length > 0 && scrubbers?.createScrubber(signatures)
  if (again) walk(value, again, again.hidden)
  return value
}

/** Redacts what `redact` finds in the strings `value` reaches, and what `hidden` finds across a body's (see `scrubSecrets`). */
function walk(value: object, redact: Scrubber, hidden: Scrubber['hidden']): void {
  const seen = new Set<object>([value as object])
  const stack: object[] = [value as object]
  const plain: object[] = []
  let [plainLeft, otherLeft] = [PLAIN_BUDGET, BUDGET]
  const next = () =>
    plain.length > 0 && plainLeft-- > 0 ? plain.pop() : otherLeft-- > 0 ? stack.pop() : undefined
  const visit = (child: unknown) => {
    if (child === null || typeof child !== 'object' || seen.has(child)) return
    if (ArrayBuffer.isView(child) || child instanceof ArrayBuffer) {
      seen.add(child)
      if (hidden) hideBytes(child, hidden)
      return
    }
    // frozen: a Token or Grant (they print redacted and must keep their values), or not ours to change
    if (Object.isFrozen(child)) return
    const sending = stillSending(child)
    if (sending) {
      // scrubbed once sent: an error printed later does not show the token it went out with
      ;(child as { once?: (event: string, listener: () => void) => void }).once?.(sending, () =>
        walk(child, redact, hidden),
      )
      return
    }
    seen.add(child)
    ;(isPlain(child) ? plain : stack).push(child)
  }
  for (let found = next(); found !== undefined; found = next()) {
    const node = found as Record<PropertyKey, unknown>
    // a WHATWG Request keeps its headers and URL in private state (Node 24's inspect prints them)
    if (typeof Request !== 'undefined' && node instanceof Request) {
      scrubHeaders(node.headers, redact)
      shadowUrl(node, redact)
    }
    if (typeof Headers !== 'undefined' && node instanceof Headers) scrubHeaders(node, redact)
    if (node instanceof Map) {
      for (const [key, entry] of node) {
        const safe = typeof entry === 'string' ? redact(entry) : entry
        if (safe !== entry) node.set(key, safe)
        else visit(entry)
      }
    }
    for (let key of ownKeys(node)) {
      const descriptor = describe(node, key)
      if (!descriptor || !('value' in descriptor)) continue
      const entry = descriptor.value
      // an API may key an object by a secret (a JSON body `{ "<token>": … }`): the key is renamed
      const safeKey = typeof key === 'string' && !Array.isArray(node) ? redact(key) : key
      if (safeKey !== key && Reflect.deleteProperty(node, key)) {
        assign(node, safeKey, entry)
        key = safeKey
      }
      // a fetched response's headers are immutable, and Node 24's inspect prints them: a copy
      if (typeof Response !== 'undefined' && entry instanceof Response) {
        const safe = scrubResponse(entry, redact)
        if (safe !== entry) assign(node, key, safe)
        continue
      }
      if (typeof entry !== 'string') {
        visit(entry)
        continue
      }
      const safe = redact(entry)
      if (safe === entry) continue
      const name = typeof key === 'string' ? key.toLowerCase() : ''
      if ((name === 'authorization' || name === 'dpop') && !Array.isArray(node))
        Reflect.deleteProperty(node, key)
      else assign(node, key, safe)
    }
    if (hidden) acrossStrings(node, hidden)
  }
}

/**
 * A secret an API split across the strings of a parsed body's object or array (`["tokSECRET+",
 * "/abcdefghi", …]`), each shorter than a piece: every string it touches is redacted whole.
 */
function acrossStrings(node: Record<PropertyKey, unknown>, hiddenIn: NonNullable<Scrubber['hidden']>): void {
  const keys = Object.keys(node).filter((key) => typeof node[key] === 'string')
  if (keys.length < 2 || !isPlain(node)) return
  const parts = keys.map((key) => node[key] as string)
  const hidden = hiddenIn(parts.join('\u0000'))
  let at = 0
  for (const [i, key] of keys.entries()) {
    const length = parts[i]!.length
    if (hidden?.subarray(at, at + length).includes(1)) assign(node, key, REDACTED)
    at += length + 1
  }
}

/** Bytes of a `Buffer` searched at most (from its start): a file a body holds is not. */
const MAX_BYTES = 65_536

/**
 * Overwrites with `*` the bytes of `view` that `hidden` finds a secret in, each byte read as one
 * character (a token is ASCII): `util.inspect` prints a `Buffer` in hex, `JSON.stringify` its
 * bytes (a body read as bytes, a chunk a stream or a socket still holds). Its length stays. Only
 * its first `MAX_BYTES`: those `util.inspect` prints (50), and where an error answer echoes.
 */
function hideBytes(view: ArrayBufferView | ArrayBuffer, hidden: NonNullable<Scrubber['hidden']>): void {
  const bytes = ArrayBuffer.isView(view)
    ? new Uint8Array(view.buffer, view.byteOffset, Math.min(view.byteLength, MAX_BYTES))
    : new Uint8Array(view, 0, Math.min(view.byteLength, MAX_BYTES))
  let text = ''
  for (let i = 0; i < bytes.length; i += 8192)
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[])
  const mask = hidden(text)
  if (mask) for (let i = mask.indexOf(1); i >= 0; i = mask.indexOf(1, i + 1)) bytes[i] = 42
}

/** Gives a `Request` or `Response` whose URL holds a secret (a redirect that echoed it) an own, redacted `url`. */
function shadowUrl(node: Request | Response, redact: Scrubber): void {
  const safe = redact(node.url)
  if (safe !== node.url) Object.defineProperty(node, 'url', { value: safe, configurable: true })
}

/** Sets `node[key]`; a frozen object or a read-only property keeps its value (nothing we created is either). */
function assign(node: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown): void {
  try {
    node[key] = value
  } catch {}
}

/** An object literal, a null-prototype object or an array: what a parsed body is made of. */
function isPlain(node: object): boolean {
  try {
    const prototype = Object.getPrototypeOf(node)
    return prototype === Object.prototype || prototype === null || Array.isArray(node)
  } catch {
    return false // a revoked proxy
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
