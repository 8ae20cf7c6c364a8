import { isReplayableBody, parseWwwAuthenticate, shouldReplay } from '@tokenwell/core/adapter'
import { describe, expect, it } from 'vitest'

describe('parseWwwAuthenticate', () => {
  it('reads a Bearer challenge with token and quoted-string parameters', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="example", error=invalid_token, error_description="The token expired"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'example', error: 'invalid_token', error_description: 'The token expired' },
      },
    ])
  })

  it('keeps commas, equals signs and escaped quotes inside quoted strings', () => {
    const [challenge] = parseWwwAuthenticate(
      'Bearer realm="a, b=c", error_description="say \\"no\\" \\\\ twice"',
    )
    expect(challenge?.params).toEqual({ realm: 'a, b=c', error_description: 'say "no" \\ twice' })
  })

  it('splits several challenges in one header value', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="files", Bearer realm="api", error="insufficient_scope", scope="a b"',
    )
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer'])
    expect(challenges[1]?.params).toEqual({ realm: 'api', error: 'insufficient_scope', scope: 'a b' })
  })

  it('joins several header lines', () => {
    const challenges = parseWwwAuthenticate(['Basic realm="x"', 'DPoP algs="ES256", error="invalid_token"'])
    expect(challenges.map((c) => [c.scheme, c.params])).toEqual([
      ['basic', { realm: 'x' }],
      ['dpop', { algs: 'ES256', error: 'invalid_token' }],
    ])
  })

  it('treats schemes and parameter names case-insensitively, values as sent', () => {
    expect(parseWwwAuthenticate('bEaReR ERROR="Invalid_Token"')).toEqual([
      { scheme: 'bearer', params: { error: 'Invalid_Token' } },
    ])
  })

  it('reads token68 challenges and bare schemes next to parameter challenges', () => {
    expect(parseWwwAuthenticate('Negotiate abc+/9==, Bearer, Custom x= "y" ')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc+/9==' },
      { scheme: 'bearer', params: {} },
      { scheme: 'custom', params: { x: 'y' } },
    ])
  })

  it('keeps the first of duplicate parameters and never touches Object.prototype', () => {
    const [challenge] = parseWwwAuthenticate('Bearer error=a, error=b, __proto__=x, constructor=y')
    expect(challenge?.params['error']).toBe('a')
    expect(Object.getOwnPropertyDescriptor(challenge?.params, '__proto__')?.value).toBe('x')
    expect(({} as Record<string, unknown>)['x']).toBeUndefined()
  })

  it('returns no challenges for an absent or empty header and skips malformed parts without throwing', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([])
    expect(parseWwwAuthenticate(null)).toEqual([])
    expect(parseWwwAuthenticate(' , ,')).toEqual([])
    expect(() => parseWwwAuthenticate('Bearer realm="unterminated, error=x')).not.toThrow()
    expect(parseWwwAuthenticate('@@@, Bearer error="invalid_token"').at(-1)).toEqual({
      scheme: 'bearer',
      params: { error: 'invalid_token' },
    })
  })
})

describe('shouldReplay', () => {
  it('replays a 401 with or without a challenge', () => {
    expect(shouldReplay(401, undefined)).toBe(true)
    expect(shouldReplay(401, 'Bearer error="invalid_token"')).toBe(true)
    expect(shouldReplay(401, 'Bearer realm="api"')).toBe(true)
  })

  it('does not replay insufficient_scope, in any challenge, quoted or not', () => {
    expect(shouldReplay(401, 'Bearer error="insufficient_scope", scope="admin"')).toBe(false)
    expect(shouldReplay(401, 'Basic realm="x", Bearer error=insufficient_scope')).toBe(false)
    expect(shouldReplay(401, ['Basic realm="x"', 'Bearer error="insufficient_scope"'])).toBe(false)
  })

  it('does not replay anything but a 401', () => {
    for (const status of [200, 302, 400, 403, 500])
      expect(shouldReplay(status, 'Bearer error="invalid_token"')).toBe(false)
  })
})

describe('isReplayableBody', () => {
  it('accepts bodies that can be sent twice', () => {
    for (const body of [
      undefined,
      null,
      'text',
      { json: true },
      [1, 2],
      new URLSearchParams('a=1'),
      new FormData(),
      new Blob(['x']),
      new ArrayBuffer(2),
      new Uint8Array(2),
    ]) {
      expect(isReplayableBody(body)).toBe(true)
    }
  })

  it('refuses streams, async iterables and generators', async () => {
    const { Readable } = await import('node:stream')
    async function* chunks() {
      yield 'a'
    }
    for (const body of [new ReadableStream(), Readable.from(['a']), chunks(), (function* () {})()]) {
      expect(isReplayableBody(body)).toBe(false)
    }
  })
})
