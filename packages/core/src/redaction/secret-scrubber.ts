import type { Grant } from '../grants/grants.js'

/** What a scrubbed secret, or any piece of one, is replaced with. */
export const SCRUBBED = '[REDACTED]'
/** A run of this many characters of a secret (in any of its forms) is scrubbed wherever it appears. */
export const PIECE = 12
/** Shorter forms cannot be told from ordinary text: they are not secrets to look for. */
const MIN_SECRET = 4
/** Longer secrets (signed JWTs: an assertion, a DPoP proof) are not looked for in base64. */
const MAX_BASE64 = 256

type Hide = (from: number, to: number) => void

/** Replaces every secret the scrubber knows, and every `PIECE`-character piece of one, in `text`. */
export type Scrubber = (text: string) => string

/** Form parameters that carry a secret (RFC 6749 §2.3.1, §4.1.3, §4.3.2, §6, RFC 7636 §4.5, RFC 7523, RFC 8628 §3.4, RFC 8693 §2.1). */
const SECRET_PARAMS = [
  'client_secret',
  'client_assertion',
  'password',
  'refresh_token',
  'code',
  'code_verifier',
  'device_code',
  'assertion',
  'subject_token',
  'actor_token',
  // RFC 7009 §2.1 / RFC 7662 §2.1: the token being revoked or introspected
  'token',
]
/** Request headers that carry a secret: the client's credentials and the DPoP proof. */
const SECRET_HEADERS = ['authorization', 'dpop', 'proxy-authorization']

/** Fields of a `Grant` that hold a secret. */
const GRANT_SECRETS = [
  'password',
  'refreshToken',
  'code',
  'codeVerifier',
  'deviceCode',
  'assertion',
  'subjectToken',
  'actorToken',
]

/** The secrets a provider holds, sent or not (a server may know them without being sent them). */
export interface HeldSecrets {
  clientId?: string
  clientSecret?: string | undefined
  grant?: Grant
}

/**
 * Every secret of a request: the credential headers (a Basic header decoded too), the secret
 * form parameters of `body`, and what the provider holds. Values as sent and as meant.
 */
export function secretsOf(headers: Headers | undefined, body: string, held: HeldSecrets): string[] {
  const secrets: string[] = []
  const pairs: [string, string][] = []
  for (const name of SECRET_HEADERS) {
    const value = headers?.get(name)
    if (!value) continue
    secrets.push(value)
    const [scheme, credentials = ''] = value.split(' ', 2)
    secrets.push(credentials)
    if (scheme?.toLowerCase() !== 'basic') continue
    const decoded = decodeBase64(credentials)
    const colon = decoded.indexOf(':')
    if (colon < 0) continue
    const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)]
    // RFC 6749 §2.3.1: both were form-encoded; a client that did not encode them meant them as is.
    // The id is no secret: pieces of it alone must not be scrubbed from the text
    secrets.push(secret, formDecode(secret))
    pairs.push([formDecode(id), formDecode(secret)], [id, secret])
  }
  const params = new URLSearchParams(body)
  for (const name of SECRET_PARAMS) secrets.push(...params.getAll(name))
  if (held.clientSecret !== undefined) {
    secrets.push(held.clientSecret)
    if (held.clientId !== undefined) pairs.push([held.clientId, held.clientSecret])
  }
  const grant = (held.grant ?? {}) as Record<string, unknown>
  for (const name of GRANT_SECRETS) {
    if (typeof grant[name] === 'string') secrets.push(grant[name])
  }
  for (const [id, secret] of pairs) {
    // RFC 6749 §2.3.1 form-encodes both before base64; many clients and servers do not
    secrets.push(base64(`${formEncode(id)}:${formEncode(secret)}`), base64(`${id}:${secret}`))
  }
  return secrets
}

/**
 * The forms a server may echo `secret` in: as is, form-urlencoded (`+` and `%20`, upper and
 * lower case hex, twice), percent-encoded, JSON-escaped (with and without `\uXXXX`, its hex in
 * either case, and `\/`), HTML-escaped, base64 (at each of the three offsets in a group) and
 * base64url, and with unprintable characters shown as `?`.
 */
export function secretForms(secret: string): string[] {
  const form = formEncode(secret)
  const encoded = [form, form.replaceAll('+', '%20'), uriEncode(secret), formEncode(form)]
  const json = JSON.stringify(secret).slice(1, -1)
  const unicode = json.replace(/[^\x20-\x7e]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`).replaceAll('/', '\\/')
  const b64 = secret.length > MAX_BASE64 ? '' : base64(secret)
  return [
    secret,
    secret.replace(/[^\x20-\x7e]/g, '?'),
    ...encoded,
    ...encoded.map((value) => value.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())),
    json,
    unicode,
    unicode.replace(/\\u([0-9a-f]{4})/g, (_, hex: string) => `\\u${hex.toUpperCase()}`),
    secret.replace(/[&<>"']/g, (c) => HTML[c] as string),
    secret.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
    // a password or a client secret may be base64-encoded (a Basic header), a signed JWT is not
    ...(secret.length > MAX_BASE64
      ? []
      : [
          b64,
          b64.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_'),
          // inside a longer base64 text the secret may start at any of a group's three bytes
          base64(`\0${secret}`).slice(4),
          base64(`\0\0${secret}`).slice(4),
        ]),
  ]
}

const HTML: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/**
 * A scrubber for `secrets`: every form of each (see `secretForms`) is replaced with
 * `[REDACTED]`, and so is every run of text made of `PIECE`-character pieces of a form (a
 * server may split or truncate what it echoes). The rest of the text is kept.
 */
export function createScrubber(secrets: Iterable<string>): Scrubber {
  const pieces = new Set<string>()
  const short = new Set<string>()
  const addPieces = (form: string) => {
    for (let i = 0; i + PIECE <= form.length; i++) pieces.add(form.slice(i, i + PIECE))
  }
  for (const secret of new Set(secrets)) {
    if (secret.length < MIN_SECRET) continue
    for (const form of new Set(secretForms(secret))) {
      if (form.length < PIECE) short.add(form)
      addPieces(form)
    }
    // pieces only: the end of a cut is no secret to look for on its own
    for (const cut of surrogateCuts(secret)) for (const form of new Set(secretForms(cut))) addPieces(form)
  }
  const shortForms = [...short].filter((form) => form.length >= MIN_SECRET)
  if (pieces.size === 0 && shortForms.length === 0) return (text) => text
  return (text) => {
    if (typeof text !== 'string' || text.length < MIN_SECRET) return text
    let hidden: Uint8Array | undefined
    const hide = (from: number, to: number) => {
      hidden ??= new Uint8Array(text.length)
      hidden.fill(1, from, to)
    }
    const matchPieces = (view: string, from: number, to: number, found: Hide) => {
      for (let i = from; i < to && i + PIECE <= view.length; i++) {
        if (pieces.has(view.slice(i, i + PIECE))) found(i, i + PIECE)
      }
    }
    const matchShort = (view: string, found: Hide) => {
      for (const form of shortForms) {
        for (let at = view.indexOf(form); at >= 0; at = view.indexOf(form, at + 1))
          found(at, at + form.length)
      }
    }
    matchPieces(text, 0, text.length, hide)
    matchShort(text, hide)
    // the text as a JSON logger or a console prints it: an escape or a quote next to fewer than
    // PIECE characters of a secret can make a piece; only windows that hold one can differ
    for (const view of escapedViews(text)) {
      const found: Hide = (from, to) => hide(...originOf(view, from, to, text.length))
      let next = 0
      for (const [from, to] of view.spots) {
        matchPieces(view.text, Math.max(next, from - PIECE + 1, 0), to, found)
        next = Math.max(next, to)
      }
      matchShort(view.text, found)
    }
    if (!hidden) return text
    let out = ''
    for (let i = 0; i < text.length; ) {
      if (!hidden[i]) {
        const end = hidden.indexOf(1, i)
        out += text.slice(i, end < 0 ? text.length : end)
        i = end < 0 ? text.length : end
      } else {
        out += SCRUBBED
        while (i < text.length && hidden[i]) i++
      }
    }
    return out
  }
}

/**
 * A server that cuts a secret by UTF-16 code units can cut through a surrogate pair (an
 * emoji): the piece ends or starts with half of it, kept as a lone surrogate (JSON-escaped
 * `\ud83d`), or U+FFFD once the text went through UTF-8 (`%EF%BF%BD`). The `PIECE` code units
 * before and after each such cut, with the half in each of those ways; their forms hold every
 * piece that ends or starts at the cut.
 */
function surrogateCuts(secret: string): string[] {
  const cuts: string[] = []
  for (let k = 0; k + 1 < secret.length; k++) {
    if (!isHigh(secret.charCodeAt(k)) || !isLow(secret.charCodeAt(k + 1))) continue
    const before = secret.slice(Math.max(0, k - PIECE), k)
    const after = secret.slice(k + 2, k + 2 + PIECE)
    cuts.push(before + secret[k], `${before}\ufffd`, secret[k + 1] + after, `\ufffd${after}`)
  }
  return cuts
}

/** `application/x-www-form-urlencoded` encoding of one value (space → `+`), as `URLSearchParams` does it. */
function formEncode(value: string): string {
  try {
    return encodeURIComponent(value)
      .replace(/[!'()~]/g, (c) => `%${hex(c.charCodeAt(0), 2).toUpperCase()}`)
      .replaceAll('%20', '+')
  } catch {
    // a lone surrogate: URLSearchParams would have sent U+FFFD
    return new URLSearchParams({ v: value }).toString().slice(2)
  }
}

function uriEncode(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return value
  }
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '))
  } catch {
    return value
  }
}

function base64(value: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function decodeBase64(value: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)))
  } catch {
    return ''
  }
}

/**
 * `text` as an encoder prints it, with where each of its characters came from: `at[j]` is the
 * index in the original text of the character `text[j]` is (part of) the escape of (-1 and
 * the text's length for the quotes), and `spots` the `[from, to)` ranges of escapes and quotes.
 */
interface EscapedView {
  text: string
  at: number[]
  spots: [number, number][]
}

const SHORT: Readonly<Record<string, string>> = {
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
  '\\': '\\\\',
}
type Escape = (char: string, code: number) => string | undefined
const hex = (code: number, width: number) => code.toString(16).padStart(width, '0')
const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff
/** `JSON.stringify`, as a JSON logger writes a line. */
const json: Escape = (char, code) =>
  SHORT[char] ??
  (char === '"' ? '\\"' : code < 0x20 || isHigh(code) || isLow(code) ? `\\u${hex(code, 4)}` : undefined)
/** `util.inspect`, as a console or a test runner prints a value, in `quote`. */
const inspect =
  (quote: string): Escape =>
  (char, code) => {
    if (SHORT[char] !== undefined) return SHORT[char]
    if (char === quote) return `\\${quote}`
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `\\x${hex(code, 2).toUpperCase()}`
    return isHigh(code) || isLow(code) ? `\\u${hex(code, 4)}` : undefined
  }
/** The quote `util.inspect` puts a string in: `'`, else one the string does not hold. */
function inspectQuote(text: string): string {
  if (!text.includes("'")) return "'"
  if (!text.includes('"')) return '"'
  return text.includes('`') || text.includes('${') ? "'" : '`'
}

/**
 * `text` as `JSON.stringify` (a JSON logger) and `util.inspect` (a console) print it, quotes
 * included. An escape or a quote adds characters (a newline is `\` and `n`, half an emoji cut
 * off is `\ud83d`), so fewer than 12 characters of a secret next to one can be 12 printed.
 */
function escapedViews(text: string): EscapedView[] {
  const quote = inspectQuote(text)
  return [viewOf(text, '"', json), viewOf(text, quote, inspect(quote))]
}

/** Characters one of the encoders may escape (a surrogate only when it is alone). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const ESCAPABLE = /[\0-\x1f\x7f-\x9f"'`\\\ud800-\udfff]/g

function viewOf(text: string, quote: string, escaper: Escape): EscapedView {
  let out = quote
  const at: number[] = [-1]
  const spots: [number, number][] = [[0, 1]]
  let copied = 0
  const copy = (to: number) => {
    out += text.slice(copied, to)
    for (let i = copied; i < to; i++) at.push(i)
    copied = to
  }
  for (const { index: i } of text.matchAll(ESCAPABLE)) {
    const code = text.charCodeAt(i)
    const paired =
      (isHigh(code) && isLow(text.charCodeAt(i + 1))) || (isLow(code) && isHigh(text.charCodeAt(i - 1)))
    const escaped = paired ? undefined : escaper(text[i] as string, code)
    if (escaped === undefined) continue
    copy(i)
    spots.push([out.length, out.length + escaped.length])
    out += escaped
    for (let j = 0; j < escaped.length; j++) at.push(i)
    copied = i + 1
  }
  copy(text.length)
  spots.push([out.length, out.length + 1])
  at.push(text.length)
  return { text: out + quote, at, spots }
}

/**
 * The characters of the original text that `view.text.slice(from, to)` shows: those whose
 * escape lies wholly inside it (an escape cut at its edge shows too little to hide the
 * character), or every one it touches when there are none.
 */
function originOf({ at }: EscapedView, from: number, to: number, length: number): [number, number] {
  const first = at[from] as number
  const last = at[to - 1] as number
  const start = from > 0 && at[from - 1] === first ? first + 1 : first
  const end = to < at.length && at[to] === last ? last : last + 1
  const [a, b] = start < end ? [start, end] : [first, last + 1]
  return [Math.max(0, a), Math.min(length, b)]
}
