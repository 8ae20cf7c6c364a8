/** One challenge of a `WWW-Authenticate` header; scheme and parameter names are lowercased. */
export interface AuthChallenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
  readonly token68?: string
}

/** A header value as the HTTP clients hand it over: one string, several, or absent. */
export type HeaderValue = string | readonly string[] | null | undefined

/** Errors a renewed token for the same parameters cannot answer (the protocol may act on them). */
const NOT_RENEWED = new Set(['insufficient_scope', 'insufficient_claims', 'insufficient_user_authentication'])

/**
 * Whether a response should be replayed once with a new token: a 401, unless a challenge says
 * `error="insufficient_scope"`, `"insufficient_claims"` or `"insufficient_user_authentication"`
 * (a new token for the same scope and claims cannot help).
 * @see RFC 6750 §3.1, RFC 9470 §3
 */
export function shouldReplay(status: number, wwwAuthenticate: HeaderValue): boolean {
  if (status !== 401) return false
  return !parseWwwAuthenticate(wwwAuthenticate).some((c) => NOT_RENEWED.has(c.params['error'] ?? ''))
}

/**
 * Whether a `Bearer` or `DPoP` challenge names an error: the server saw credentials and refused
 * them. A request without any gets a challenge without an error code (RFC 6750 §3.1).
 */
export function namesTokenError(wwwAuthenticate: HeaderValue): boolean {
  return parseWwwAuthenticate(wwwAuthenticate).some(
    (c) => (c.scheme === 'bearer' || c.scheme === 'dpop') && c.params['error'] !== undefined,
  )
}

// RFC 9110 §5.6.2 tchar, and §11.2 token68
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y

/**
 * Parses a `WWW-Authenticate` header into its challenges: several challenges in one value or
 * in several values, parameters as token or quoted-string (with `\` escapes), or a token68.
 * Scheme and parameter names are lowercased (they are case-insensitive); the first of
 * duplicate parameters wins. Malformed parts are skipped, never thrown.
 * @see RFC 9110 §11.6.1, RFC 9110 §11.2, RFC 6750 §3
 */
export function parseWwwAuthenticate(header: HeaderValue): AuthChallenge[] {
  const text = typeof header === 'string' ? header : header ? header.join(', ') : ''
  const challenges: AuthChallenge[] = []
  let i = 0
  for (;;) {
    i = skip(text, i, ' \t,') // empty list elements are allowed (RFC 9110 §5.6.1)
    if (i >= text.length) return challenges
    const scheme = tokenAt(text, i)
    if (!scheme) {
      i = nextComma(text, i)
      continue
    }
    i += scheme.length
    const params: Record<string, string> = Object.create(null)
    const challenge: { scheme: string; params: Record<string, string>; token68?: string } = {
      scheme: scheme.toLowerCase(),
      params,
    }
    challenges.push(challenge)
    const body = skip(text, i, ' \t')
    if (body === i || body >= text.length || text[body] === ',') {
      i = body
      continue
    }
    i = body
    let param = paramAt(text, i)
    if (!param) {
      TOKEN68.lastIndex = i
      const token68 = TOKEN68.exec(text)?.[0] ?? ''
      const end = skip(text, i + token68.length, ' \t')
      if (token68 && (end >= text.length || text[end] === ',')) challenge.token68 = token68
      i = nextComma(text, end)
      continue
    }
    while (param) {
      params[param.name] ??= param.value
      i = skip(text, param.end, ' \t,')
      param = paramAt(text, i)
    }
  }
}

function skip(text: string, from: number, chars: string): number {
  let i = from
  while (i < text.length && chars.includes(text[i]!)) i++
  return i
}

function tokenAt(text: string, from: number): string {
  let i = from
  while (i < text.length && TCHAR.test(text[i]!)) i++
  return text.slice(from, i)
}

function nextComma(text: string, from: number): number {
  let i = from
  let quoted = false
  for (; i < text.length; i++) {
    const c = text[i]
    if (quoted && c === '\\') i++
    else if (c === '"') quoted = !quoted
    else if (c === ',' && !quoted) break
  }
  return i
}

/** `name BWS "=" BWS ( token / quoted-string )` ending at a comma or the end, or undefined. */
function paramAt(text: string, from: number): { name: string; value: string; end: number } | undefined {
  const name = tokenAt(text, from)
  if (!name) return undefined
  let i = skip(text, from + name.length, ' \t')
  if (text[i] !== '=') return undefined
  i = skip(text, i + 1, ' \t')
  let value = ''
  if (text[i] === '"') {
    for (i++; ; i++) {
      if (i >= text.length) return undefined // unterminated quoted-string
      const c = text[i]!
      if (c === '"') break
      if (c === '\\' && i + 1 < text.length) value += text[++i]
      else value += c
    }
    i++
  } else {
    value = tokenAt(text, i)
    if (!value) return undefined // `abc=` or `abc==` is a token68, not a parameter
    i += value.length
  }
  i = skip(text, i, ' \t')
  if (i < text.length && text[i] !== ',') return undefined
  return { name: name.toLowerCase(), value, end: i }
}
