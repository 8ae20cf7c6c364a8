import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  buildTokenRequest,
  loadSecretScrubber,
  OAuthError,
  parseTokenResponse,
  TokenRequestError,
  TokenResponseError,
} from '../src/index.js'
import { resolveOptions } from '../src/provider/resolve-options.js'
import { scrubFailure } from '../src/redaction/scrub.js'
import { createScrubber } from '../src/redaction/secret-scrubber.js'

const SECRET = 'p@ss wörd+"/\\<&>:9Z'
const form = (v: string) => new URLSearchParams({ v }).toString().slice(2)
const b64 = (v: string) => btoa(String.fromCharCode(...new TextEncoder().encode(v)))

describe('the secret scrubber', () => {
  const scrub = createScrubber([SECRET])

  it.each([
    ['as is', SECRET],
    ['form-urlencoded with +', form(SECRET)],
    ['form-urlencoded with %20', form(SECRET).replaceAll('+', '%20')],
    [
      'percent-encoded, lower-case hex',
      encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    ],
    ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
    ['HTML-escaped', SECRET.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)],
    [
      'HTML-escaped as Python does (&#x27;)',
      SECRET.replace(
        /[&<>"']/g,
        (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? '&#x27;',
      ),
    ],
    [
      'HTML-escaped by the OWASP rule (/ as &#x2F;)',
      SECRET.replace(
        /[&<>"'/]/g,
        (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '/': '&#x2F;' })[c] ?? '&#x27;',
      ),
    ],
    [
      'HTML-escaped as hex references',
      SECRET.replace(/[&<>"'/]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`),
    ],
    ['base64, twice', b64(b64(SECRET))],
    ['base64 of a Basic header, base64 again', b64(`authorization: Basic ${b64(`svc:${SECRET}`)}`)],
    ['base64 of a text that holds it, twice over', b64(b64(`{"seen":${JSON.stringify(SECRET)}}`))],
    ['base64', b64(SECRET)],
    [
      'as its UTF-8 bytes read as Latin-1 (a header value fetch read)',
      String.fromCharCode(...new TextEncoder().encode(SECRET)),
    ],
    ['a 12-character piece', SECRET.slice(3, 15)],
  ])('replaces the secret %s and keeps the rest of the text', (_, echoed) => {
    expect(scrub(`invalid client (got ${echoed}) try again`)).toBe(
      'invalid client (got [REDACTED]) try again',
    )
  })

  // a token's characters (base64, base64url, a JWT's): white space and other punctuation part the chunks
  it.each([
    ['10 characters, " | "', 10, ' | '],
    ['6 characters, a space', 6, ' '],
    ['11 characters, JSON strings', 11, '", "'],
    ['4 characters, new lines', 4, '\n'],
  ])(
    'replaces a token echoed in chunks shorter than a piece (%s) from its first chunk to its last',
    (_, size, separator) => {
      const token = 'at+/Q2xpZW50U2VjcmV0-9f8e_x.Yz='
      const chunks = token.match(new RegExp(`.{1,${size}}`, 'g')) ?? []
      expect(createScrubber([token])(`invalid token (got ${chunks.join(separator)}) try again`)).toBe(
        'invalid token (got [REDACTED]) try again',
      )
    },
  )

  it('replaces every piece of a secret split across an echo, and leaves other text alone', () => {
    const text = `a=${SECRET.slice(0, 12)} b=${SECRET.slice(6)} c=unrelated-text-here`
    expect(scrub(text)).toBe('a=[REDACTED] b=[REDACTED] c=unrelated-text-here')
  })

  it('finds the Basic credentials of a request, RFC 6749 form-encoded and as is, and keeps the client id', async () => {
    const options = resolveOptions({
      tokenEndpoint: 'https://as.test/t',
      clientId: 'service account prod-eu',
      clientSecret: SECRET,
    })
    const request = buildTokenRequest(options, { grant_type: 'client_credentials' })
    const header = request.headers.get('authorization') as string
    const plain = b64(`service account prod-eu:${SECRET}`)
    const error = new OAuthError('invalid_client', 401, {
      errorDescription: `${header} / ${plain} for service account prod-eu`,
    })
    const scrubbed = (await scrubFailure(error, request, {})) as OAuthError
    expect(scrubbed.errorDescription).toBe('[REDACTED] / [REDACTED] for service account prod-eu')
  })
})

/** The 12-character pieces of `secret` that `text` shows as is, as a JSON logger and as a console print it. */
function piecesShown(secret: string, text: string): string[] {
  const printed = [text, JSON.stringify(text), inspect(text)]
  const shown: string[] = []
  for (let i = 0; i + 12 <= secret.length; i++) {
    const piece = secret.slice(i, i + 12)
    if (printed.some((t) => t.includes(piece))) shown.push(piece)
  }
  return shown
}

describe('the secret scrubber, on base64 of base64', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9._~+/-]{16,80}$/)
  const text = fc.string({ maxLength: 40 })
  it('hides a token a server encoded twice among any text, and what it encoded with it', () => {
    fc.assert(
      fc.property(token, text, text, text, (secret, before, inside, after) => {
        const echo = b64(b64(`${inside}${secret}${inside}`))
        const scrubbed = createScrubber([secret])(`${before} ${echo} ${after}`)
        expect(scrubbed).toBe(`${before} [REDACTED] ${after}`)
      }),
    )
  })

  it('leaves base64 that holds no secret alone', () => {
    const other = b64(b64('just an ordinary error page, nothing secret in it'))
    expect(createScrubber(['Zq8sPq2LmV4nR7tY1wK3'])(`seen: ${other}`)).toBe(`seen: ${other}`)
  })
})

describe('the secret scrubber, on echoes an encoder lengthens', () => {
  // the 11 code units after `n` (an emoji is two) echoed after a newline: JSON.stringify and
  // util.inspect print the newline as `\n`, which makes the 12-character piece `nwAf;8éG😀Zy`
  const SECRET = 'N5u0qKCiqdAnwAf;8éG😀Zy'
  it.each([
    ['after a newline (\\n)', SECRET, `bad request: x\n${SECRET.slice(12)}`, 'bad request: x\n[REDACTED]'],
    ['after a tab (\\t)', 'q8Zr-2kt0pLm3WxYv4B', 'q=\t0pLm3WxYv4B', 'q=\t[REDACTED]'],
    [
      'after an escaped control character (\\u001b, \\x1B)',
      'k3u001bZp9Qr4Lw',
      '\u001bZp9Qr4Lw',
      '\u001b[REDACTED]',
    ],
    ['after half an emoji (\\ud83d)', 'abcud83dEFGHIJKL', '\ud83dEFGHIJK', '\ud83d[REDACTED]'],
    ["after the quote util.inspect prints a text in (')", "'k3Zp9Qr4LwXy", 'k3Zp9Qr4LwX', '[REDACTED]'],
    [
      'before the quote JSON.stringify prints a text in (")',
      'mR7-Tq2Zx9Lp"w',
      'x: R7-Tq2Zx9Lp',
      'x: [REDACTED]',
    ],
  ])('replaces fewer than 12 characters of a secret %s', (_, secret, text, scrubbed) => {
    expect(piecesShown(secret, text)).not.toEqual([])
    const scrub = createScrubber([secret])
    expect(scrub(text)).toBe(scrubbed)
    expect(piecesShown(secret, scrub(text))).toEqual([])
  })

  it('leaves an escape next to other text alone', () => {
    const scrub = createScrubber([SECRET])
    expect(scrub('line one\nline two\twith "quotes" and \\ and \ud83d')).toBe(
      'line one\nline two\twith "quotes" and \\ and \ud83d',
    )
  })
})

describe('the secret scrubber, on a secret cut through an emoji (a surrogate pair)', () => {
  const SECRET = 'Zq7-wX9péLm2r😀Vb4-Ñc8tYh3k'
  const high = SECRET.indexOf('😀')
  const [head, tail] = [SECRET.slice(4, high + 1), SECRET.slice(high + 1, high + 12)]
  it.each([
    ['as is, ending in the lone high half (printed as \\ud83d)', head],
    ['as is, starting with the lone low half (printed as \\ude00)', tail],
    ['ending in the high half, JSON-escaped (\\ud83d)', JSON.stringify(head).slice(1, -1)],
    ['starting with the low half, JSON-escaped (\\ude00)', JSON.stringify(tail).slice(1, -1)],
    ['ending in the high half, JSON-escaped in upper case (\\uD83D)', 'p\\u00E9Lm2r\\uD83D'],
    ['ending in U+FFFD (decoded from UTF-8)', `${SECRET.slice(high - 11, high)}\ufffd`],
    ['starting with U+FFFD (decoded from UTF-8)', `\ufffd${SECRET.slice(high + 2, high + 13)}`],
    ['ending in the high half, form-encoded (%EF%BF%BD)', form(SECRET.slice(6, high + 1))],
    ['starting with the low half, form-encoded (%EF%BF%BD)', form(SECRET.slice(high + 1, high + 8))],
  ])('replaces a piece %s', (_, echoed) => {
    const scrub = createScrubber([SECRET])
    expect(scrub(`got ${echoed} here`)).toBe('got [REDACTED] here')
  })

  it('keeps short text next to a replacement character or an escaped surrogate', () => {
    const scrub = createScrubber([SECRET])
    expect(scrub('got r\ufffd and r\\ud83d and Vb4 here')).toBe('got r\ufffd and r\\ud83d and Vb4 here')
  })
})

describe('scrubbed errors', () => {
  const request = () =>
    buildTokenRequest(
      resolveOptions({ tokenEndpoint: 'https://as.test/t', clientId: 'c', clientSecret: 's1' }),
      {
        grant_type: 'password',
        username: 'u',
        password: SECRET,
      },
    )

  it('keep their class, code, status and the rest of their fields; the stack is scrubbed too', async () => {
    const response = new Response(null, {
      status: 400,
      headers: { 'x-echo': form(SECRET), 'retry-after': '3' },
    })
    const error = new OAuthError(`bad_${SECRET}`, 400, {
      errorDescription: `wrong password ${SECRET}!`,
      response,
    })
    const scrubbed = (await scrubFailure(error, request(), {})) as OAuthError
    expect(scrubbed).toBeInstanceOf(OAuthError)
    expect([scrubbed.code, scrubbed.status, scrubbed.name]).toEqual(['ERR_OAUTH', 400, 'OAuthError'])
    expect(scrubbed.error).toBe('bad_[REDACTED]')
    expect(scrubbed.errorDescription).toBe('wrong password [REDACTED]!')
    expect(scrubbed.stack).toMatch(/^OAuthError: token endpoint returned "bad_\[REDACTED\]"[\s\S]*\n {4}at /)
    expect(scrubbed.response?.headers.get('x-echo')).toBe('[REDACTED]')
    expect(scrubbed.response?.headers.get('retry-after')).toBe('3')
    expect(Object.keys(scrubbed)).not.toContain('response')
  })

  it('wrap a fetch failure: the cause chain stays, scrubbed, and opaque request objects are named only', async () => {
    const root = Object.assign(new Error(`socket closed after ${encodeURIComponent(SECRET)}`), {
      code: 'ECONNRESET',
      request: new Request('https://as.test/t'),
      data: new TextEncoder().encode(SECRET),
    })
    const error = new TokenRequestError('token request failed: network error', {
      cause: new TypeError('fetch failed', { cause: root }),
    })
    const scrubbed = (await scrubFailure(error, request(), {})) as Error
    const cause = scrubbed.cause as TypeError
    const deepest = cause.cause as Error & Record<string, unknown>
    expect(scrubbed).toBeInstanceOf(TokenRequestError)
    expect(cause).toBeInstanceOf(TypeError)
    expect(deepest.message).toBe('socket closed after [REDACTED]')
    expect([deepest.code, deepest.request, deepest.data]).toEqual(['ECONNRESET', '[Request]', '[Uint8Array]'])
    expect(inspect(scrubbed, { depth: Number.POSITIVE_INFINITY })).not.toContain(SECRET.slice(0, 4))
    expect(root.message).toContain('socket closed after p%40ss') // the original is left as it was
  })

  it('are the same object when nothing in them needed scrubbing', async () => {
    const error = new TokenRequestError('timed out', { cause: new DOMException('timeout', 'TimeoutError') })
    expect(await scrubFailure(error, request(), {})).toBe(error)
  })
})

describe('parse errors', () => {
  it('never quote the body, in the message or in the cause', async () => {
    const response = new Response(`not json: ${SECRET}`, {
      status: 502,
      headers: { 'content-type': 'text/html' },
    })
    const error = await parseTokenResponse(response).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenResponseError)
    expect((error as Error).cause).toBeInstanceOf(SyntaxError)
    expect(String((error as Error).cause)).toBe('SyntaxError: the body is not valid JSON')
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY })).not.toContain('not json')
  })
})

describe('loadSecretScrubber', () => {
  it('scrubs text of a list of secrets that grows', async () => {
    const scrub = await loadSecretScrubber()
    const secrets = ['first-secret-value']
    expect(scrub('x first-secret-value y', secrets)).toBe('x [REDACTED] y')
    secrets.push('second-secret')
    expect(scrub(`${b64('second-secret')} and first-secret-value`, secrets)).toBe('[REDACTED] and [REDACTED]')
  })
})
