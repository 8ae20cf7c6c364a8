import { describe, expect, it } from 'vitest'
import { OAuthError, parseTokenResponse, TokenResponseError } from '../src/index.js'

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('parseTokenResponse', () => {
  it('returns the token with expiry, scope and extra fields', async () => {
    const token = await parseTokenResponse(
      json({
        access_token: 'a',
        token_type: 'bearer',
        expires_in: 60,
        scope: 's1 s2',
        refresh_token: 'r',
        id_token: 'i',
        x: 1,
      }),
      { now: 1_000 },
    )
    expect(token).toMatchObject({
      accessToken: 'a',
      tokenType: 'Bearer',
      expiresAt: 61_000,
      scope: 's1 s2',
      refreshToken: 'r',
      idToken: 'i',
    })
    expect(token.raw.x).toBe(1)
  })

  it('accepts a numeric string expires_in', async () => {
    const token = await parseTokenResponse(
      json({ access_token: 'a', token_type: 'Bearer', expires_in: '60' }),
      { now: 0 },
    )
    expect(token.expiresAt).toBe(60_000)
  })

  it("takes a JWT's earlier exp over expires_in while the Date header says the clocks agree", async () => {
    // the server issued at 100.9 s: iat 100, exp 102, expires_in 2; the answer arrives at 101.0 s
    const jwt = (exp: number) =>
      ['{"alg":"none"}', JSON.stringify({ exp }), '']
        .map((p) => Buffer.from(p).toString('base64url'))
        .join('.')
    const body = { access_token: jwt(102), token_type: 'Bearer', expires_in: 2 }
    const at = (date: string) => parseTokenResponse(json(body, 200, { date }), { now: 101_000 })
    expect((await at(new Date(100_000).toUTCString())).expiresAt).toBe(102_000)
    // a server clock a minute off: its exp says nothing on ours, expires_in counts from now
    expect((await at(new Date(40_000).toUTCString())).expiresAt).toBe(103_000)
    expect((await parseTokenResponse(json(body), { now: 101_000 })).expiresAt).toBe(103_000)
  })

  describe('an answer the server stamped at 100 s that arrives 3 s later (sent at 99.9 s): its lifetime counts from 100 s', () => {
    const jwt = (exp: number) =>
      ['{"alg":"none"}', JSON.stringify({ exp }), '']
        .map((p) => Buffer.from(p).toString('base64url'))
        .join('.')
    const date = new Date(100_000).toUTCString()
    const arrives = { now: 103_000, sentAt: 99_900 }
    // [case, body, latest expiresAt believed: the real expiry, plus the Date header's second without a JWT]
    it.each([
      ['expires_in and a JWT exp', { access_token: jwt(105), expires_in: 5 }, 105_000],
      ['expires_in only', { access_token: 'a', expires_in: 5 }, 106_000],
      ['a JWT exp only', { access_token: jwt(105) }, 105_000],
    ])('%s: expires no later than the server said (not 3 s after)', async (_, body, latest) => {
      const token = await parseTokenResponse(json({ token_type: 'Bearer', ...body }, 200, { date }), arrives)
      expect(token.expiresAt).toBeLessThanOrEqual(latest)
      expect(token.expiresAt).toBeGreaterThanOrEqual(104_000)
    })

    it('a clock ahead by more than the round trip is still a clock ahead: expires_in counts from now', async () => {
      const body = { access_token: jwt(105), token_type: 'Bearer', expires_in: 5 }
      const token = await parseTokenResponse(json(body, 200, { date }), { now: 110_000, sentAt: 109_900 })
      expect(token.expiresAt).toBe(115_000)
    })
  })

  it('believes no lifetime longer than a year, so a huge expires_in never means "never expires"', async () => {
    const token = await parseTokenResponse(
      json({ access_token: 'a', token_type: 'Bearer', expires_in: 1.8e305 }),
      { now: 0 },
    )
    expect(token.expiresAt).toBe(365 * 24 * 3600 * 1000)
  })

  it('reports the requested scope when the server does not echo it', async () => {
    const token = await parseTokenResponse(json({ access_token: 'a', token_type: 'Bearer' }), {
      requestedScope: 'q',
    })
    expect(token.scope).toBe('q')
  })

  it('turns an OAuth error body into OAuthError with error, description, uri and status', async () => {
    const error = await parseTokenResponse(
      json({ error: 'invalid_client', error_description: 'bad client', error_uri: 'https://docs/e' }, 401),
    ).catch((e) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({
      code: 'ERR_OAUTH',
      error: 'invalid_client',
      errorDescription: 'bad client',
      errorUri: 'https://docs/e',
      status: 401,
    })
    expect(error.response.status).toBe(401)
    expect(Object.keys(error)).not.toContain('response')
  })

  const broken: [string, Response, RegExp][] = [
    [
      'a non-JSON body',
      new Response('oops', { status: 200, headers: { 'content-type': 'text/plain' } }),
      /text\/plain, not JSON/,
    ],
    [
      'an HTML error page',
      new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
      /text\/html, not JSON \(HTTP 502\)/,
    ],
    ['a JSON array', json([1, 2]), /not an object/],
    ['a missing access_token', json({ token_type: 'Bearer' }), /no access_token/],
    ['an empty access_token', json({ access_token: '', token_type: 'Bearer' }), /no access_token/],
    [
      'a non-numeric expires_in',
      json({ access_token: 'a', token_type: 'Bearer', expires_in: 'soon' }),
      /invalid expires_in/,
    ],
    [
      'a negative expires_in',
      json({ access_token: 'a', token_type: 'Bearer', expires_in: -5 }),
      /invalid expires_in/,
    ],
    [
      'an unsupported token_type',
      json({ access_token: 'a', token_type: 'mac' }),
      /unsupported token_type "mac"/,
    ],
    [
      'a token_type object whose toString is not a function',
      json({ access_token: 'a', token_type: { toString: [] } }),
      /unsupported token_type "\(object\)"/,
    ],
    ['a 5xx without an OAuth error', json({ message: 'down' }, 503), /HTTP 503 without an OAuth error/],
    [
      'a non-string refresh_token',
      json({ access_token: 'a', token_type: 'Bearer', refresh_token: 5 }),
      /non-string refresh_token/,
    ],
  ]
  it.each(broken)('rejects %s with TokenResponseError', async (_, response, message) => {
    const error = await parseTokenResponse(response).catch((e) => e)
    expect(error).toBeInstanceOf(TokenResponseError)
    expect(error.code).toBe('ERR_TOKEN_RESPONSE')
    expect(error.message).toMatch(message)
  })

  it('refuses a body larger than maxBytes without reading it all', async () => {
    const big = JSON.stringify({ access_token: 'a'.repeat(5_000), token_type: 'Bearer' })
    const error = await parseTokenResponse(new Response(big), { maxBytes: 1_000 }).catch((e) => e)
    expect(error).toBeInstanceOf(TokenResponseError)
    expect(error.message).toMatch(/larger than 1000 bytes/)
  })

  it('never puts a server-chosen control character in a message', async () => {
    const error = await parseTokenResponse(json({ error: 'bad\n\u001b[31mred' }, 400)).catch((e) => e)
    expect(error.message).not.toContain('\n')
    expect(error.message).not.toContain('\u001b')
  })
})
