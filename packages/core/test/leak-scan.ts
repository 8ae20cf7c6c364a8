import { inspect } from 'node:util'

/** A piece this long of a secret (in any form below) counts as a leak. */
const PIECE = 12

const base64 = (v: string) => btoa(String.fromCharCode(...new TextEncoder().encode(v)))
const form = (v: string) => new URLSearchParams({ v }).toString().slice(2)

/**
 * The forms of `secret` this scan looks for, written independently of core's scrubber: as is,
 * form-urlencoded (`+` and `%20`), JSON-escaped, base64.
 */
function formsOf(secret: string): string[] {
  // a signed JWT (longer than 256 characters) is not expected in base64
  const b64 = secret.length > 256 ? [] : [base64(secret)]
  return [
    secret,
    form(secret),
    form(secret).replaceAll('+', '%20'),
    JSON.stringify(secret).slice(1, -1),
    ...b64,
  ]
}

/** `id:secret` in base64, RFC 6749 §2.3.1 form-encoded first and as is. */
export function basicForms(id: string, secret: string): string[] {
  return [base64(`${form(id)}:${form(secret)}`), base64(`${id}:${secret}`)]
}

function pieces(value: string): string[] {
  if (value.length <= PIECE) return [value]
  const out: string[] = []
  for (let i = 0; i + PIECE <= value.length; i++) out.push(value.slice(i, i + PIECE))
  return out
}

/** Every string inside a JSON text. */
function jsonStrings(text: string): string[] {
  const out: string[] = []
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(value)
    else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v)
  }
  walk(JSON.parse(text))
  return out
}

/** An error and every error in its `cause` chain and `errors`. */
function chain(error: unknown, depth = 0): unknown[] {
  if (!(error instanceof Error) || depth > 10) return []
  const nested = [(error as { cause?: unknown }).cause, ...((error as { errors?: unknown[] }).errors ?? [])]
  return [error, ...nested.flatMap((e) => chain(e, depth + 1))]
}

/**
 * What a user can print of `values` (errors, events) and of `lines` (a logger's JSON lines).
 * `plain` texts are as the value holds them (message, stack, `String`, every string of the JSON,
 * for each error of each cause chain); `escaped` ones went through an encoder (`util.inspect` at
 * unlimited depth, `JSON.stringify`), which may turn fewer than 12 characters into 12.
 */
export function channels(values: readonly unknown[], lines: readonly string[]) {
  const plain: string[] = []
  const escaped: string[] = [...lines]
  for (const line of lines) plain.push(...jsonStrings(line))
  for (const value of values) {
    escaped.push(inspect(value, { depth: Number.POSITIVE_INFINITY }))
    const json = JSON.stringify(value) ?? '""'
    escaped.push(json)
    plain.push(...jsonStrings(json))
    for (const error of [...chain(value), ...chain((value as { error?: unknown })?.error)]) {
      const e = error as Error & { response?: Response }
      plain.push(String(e), e.message, e.stack ?? '', ...jsonStrings(JSON.stringify(e) ?? '""'))
      if (e.response) escaped.push(inspect(e.response, { depth: Number.POSITIVE_INFINITY }))
    }
  }
  return { plain, escaped }
}

/**
 * How often any of `secrets` shows in the channels: whole in any form, or a 12-character piece of
 * any form in a plain text, or a 12-character piece as is in an escaped one.
 */
export function countLeaks(
  secrets: readonly string[],
  extraForms: readonly string[],
  texts: { plain: readonly string[]; escaped: readonly string[] },
): { count: number; found: string[] } {
  const whole = [...secrets.flatMap(formsOf), ...extraForms].filter((f) => f.length >= 8)
  const plainPieces = new Set(whole.filter((f) => f.length >= PIECE).flatMap(pieces))
  const rawPieces = new Set(secrets.filter((s) => s.length >= PIECE).flatMap(pieces))
  const short = whole.filter((f) => f.length < PIECE)
  const found: string[] = []
  const slide = (text: string, set: Set<string>) => {
    for (let i = 0; i + PIECE <= text.length; i++) {
      const piece = text.slice(i, i + PIECE)
      if (set.has(piece)) found.push(piece)
    }
  }
  const search = (text: string, needles: readonly string[]) => {
    for (const needle of needles) if (text.includes(needle)) found.push(needle)
  }
  for (const text of texts.plain) {
    slide(text, plainPieces)
    search(text, short)
  }
  for (const text of texts.escaped) {
    slide(text, rawPieces)
    search(text, whole)
  }
  return { count: found.length, found: [...new Set(found)].slice(0, 5) }
}
