import { escapedViews, originOf } from './printed-views.js'
import {
  base64,
  decodeBase64,
  formEncode,
  hex,
  hexBytes,
  isHigh,
  isLow,
  latin1,
  uriEncode,
} from './text-encodings.js'

export { secretsOf } from './request-secrets.js'

/** What a scrubbed secret, or any piece of one, is replaced with. */
export const SCRUBBED = '[REDACTED]'
/** A run of this many characters of a secret (in any of its forms) is scrubbed wherever it appears. */
export const PIECE = 12
/** Shorter forms cannot be told from ordinary text: they are not secrets to look for. */
const MIN_SECRET = 4
/**
 * Longer secrets are not looked for in base64. A signed JWT (an access or refresh token, an
 * assertion, a DPoP proof) is well under it, and a server may base64 one it echoes.
 */
const MAX_BASE64 = 8192

type Hide = (from: number, to: number) => void

/**
 * Replaces every secret the scrubber knows, and every `PIECE`-character piece of one, in `text`;
 * `hidden` tells which characters of `text` it would replace (none: `undefined`).
 */
export type Scrubber = ((text: string) => string) & { hidden?: (text: string) => Uint8Array | undefined }

/**
 * The forms a server may echo `secret` in: as is, form-urlencoded (`+` and `%20`, upper and
 * lower case hex, twice), percent-encoded, JSON-escaped (with and without `\uXXXX`, its hex in
 * either case, and `\/`), HTML-escaped, base64 (at each of the three offsets in a group) and
 * base64url, its UTF-8 bytes in hex (either case), with unprintable characters shown as `?`,
 * and its UTF-8 bytes read as Latin-1 (a header or reason phrase that carries them as is, as
 * fetch reads it; RFC 9110 §5.5).
 */
export function secretForms(secret: string): string[] {
  const form = formEncode(secret)
  const encoded = [form, form.replaceAll('+', '%20'), uriEncode(secret), formEncode(form)]
  const json = JSON.stringify(secret).slice(1, -1)
  const unicode = json.replace(/[^\x20-\x7e]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`).replaceAll('/', '\\/')
  const b64 = secret.length > MAX_BASE64 ? '' : base64(secret)
  const hexed = hexBytes(secret)
  return [
    secret,
    secret.replace(/[^\x20-\x7e]/g, '?'),
    latin1(secret),
    ...encoded,
    ...encoded.map((value) => value.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())),
    json,
    unicode,
    unicode.replace(/\\u([0-9a-f]{4})/g, (_, hex: string) => `\\u${hex.toUpperCase()}`),
    ...htmlForms(secret),
    hexed,
    hexed.toUpperCase(),
    // a password or a client secret is base64-encoded in a Basic header; anything may be in an echo
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
 * `secret` HTML-escaped as the common escapers do it: named entities with `&#39;` (lodash,
 * escape-html, Rails), with `&#x27;` (Python's `html.escape`), with `&#039;` (PHP), with
 * `&#x27;` and `/` as `&#x2F;` (OWASP's rule, which a base64 token's `/` meets), and every
 * special character as a decimal or a hex (either case) character reference.
 */
function htmlForms(secret: string): string[] {
  if (!/[&<>"'/]/.test(secret)) return []
  const named = (quote: string, slash = '/') =>
    secret.replace(/[&<>"'/]/g, (c) => (c === "'" ? quote : c === '/' ? slash : (HTML[c] as string)))
  return [
    named('&#39;'),
    named('&#x27;'),
    named('&#039;'),
    named('&#x27;', '&#x2F;'),
    secret.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
    ...[hex, (code: number, width: number) => hex(code, width).toUpperCase()].map((digits) =>
      secret.replace(/[&<>"'/]/g, (c) => `&#x${digits(c.charCodeAt(0), 2)};`),
    ),
  ]
}

/**
 * A scrubber for `secrets`: every form of each (see `secretForms`) is replaced with
 * `[REDACTED]`, and so is every run of text made of `PIECE`-character pieces of a form (a
 * server may split or truncate what it echoes). The rest of the text is kept.
 */
export function createScrubber(secrets: Iterable<string>): Scrubber {
  const pieces = new Set<string>()
  const short = new Set<string>()
  /** The characters of the forms but white space: what a server splitting a secret puts between its chunks is not. */
  const alphabet = new Set<string>()
  const addPieces = (form: string) => {
    for (const char of form) if (char.trim() !== '') alphabet.add(char)
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
  const hiddenIn = (text: string, depth = 0): Uint8Array | undefined => {
    if (typeof text !== 'string' || text.length < MIN_SECRET) return undefined
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
    // decoded base64: the forms as they are are what a server encoded
    if (depth > 0) return hidden
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
    // a secret echoed in chunks shorter than a piece (`abcde | fghij…`): the text without what no form holds
    const joined = joinedView(text, alphabet)
    if (joined)
      matchPieces(joined.text, 0, joined.text.length, (from, to) =>
        hide(joined.at[from]!, joined.at[to - 1]! + 1),
      )
    // base64 of text that holds a secret in a form (base64 of a Basic header, the secret encoded
    // twice: its base64 forms are forms): the whole run, decoded once
    for (const run of text.matchAll(BASE64_RUN))
      if (run[0].length <= MAX_RUN && hiddenIn(decodeRun(run[0]), 1))
        hide(run.index, run.index + run[0].length)
    return hidden
  }
  const scrub = (text: string) => {
    const hidden = hiddenIn(text)
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
  return Object.assign(scrub, { hidden: (text: string) => hiddenIn(text) })
}

/** A run of base64 or base64url characters long enough to hold a piece of a secret, once decoded. */
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g
/** Longer runs (an image, a file) are not decoded. */
const MAX_RUN = 65_536

/** The text a run of base64 or base64url holds, from its first character (a trailing partial group dropped). */
function decodeRun(run: string): string {
  const standard = run.replace(/=+$/, '').replaceAll('-', '+').replaceAll('_', '/')
  return decodeBase64(standard.slice(0, standard.length - (standard.length % 4)))
}

/**
 * `text` without the characters `alphabet` does not hold, with the index in `text` of each it
 * keeps (`at`), or `undefined` when that drops none or leaves less than a piece.
 */
function joinedView(text: string, alphabet: ReadonlySet<string>): { text: string; at: number[] } | undefined {
  const at: number[] = []
  for (let i = 0; i < text.length; i++) if (alphabet.has(text[i] as string)) at.push(i)
  if (at.length === text.length || at.length < PIECE) return undefined
  return { text: at.map((i) => text[i]).join(''), at }
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
