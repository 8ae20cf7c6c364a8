import { hex, isHigh, isLow } from './text-encodings.js'

/**
 * `text` as an encoder prints it, with where each of its characters came from: `at[j]` is the
 * index in the original text of the character `text[j]` is (part of) the escape of (-1 and
 * the text's length for the quotes), and `spots` the `[from, to)` ranges of escapes and quotes.
 */
export interface EscapedView {
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
export function escapedViews(text: string): EscapedView[] {
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
export function originOf({ at }: EscapedView, from: number, to: number, length: number): [number, number] {
  const first = at[from] as number
  const last = at[to - 1] as number
  const start = from > 0 && at[from - 1] === first ? first + 1 : first
  const end = to < at.length && at[to] === last ? last : last + 1
  const [a, b] = start < end ? [start, end] : [first, last + 1]
  return [Math.max(0, a), Math.min(length, b)]
}
