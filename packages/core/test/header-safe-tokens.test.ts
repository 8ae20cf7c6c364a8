import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTokenProvider, parseTokenResponse, TokenResponseError } from '../src/index.js'

// Rule 6: a token that could not be sent as a header value is refused when it arrives.

/** A token with at least one character a header cannot carry: CTL, whitespace, DEL or non-ASCII. */
const unsendable = fc
  .tuple(
    fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '.', '_', '~', '+', '/'), minLength: 1 }),
    fc.oneof(
      fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c)),
      fc.constant('\x7f'),
      fc.integer({ min: 0x80, max: 0xffff }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('é', '\u2028', '😀', '\r\n'),
    ),
    fc.string({ unit: fc.constantFrom('a', 'b', '='), maxLength: 8 }),
  )
  .map(([head, bad, tail]) => `${head}${bad}${tail}`)

const answer = (body: Record<string, unknown>) => Response.json(body)

describe('tokens that cannot be sent as a header value', () => {
  it('an access_token or token_type with a CTL, whitespace or non-ASCII character is a TokenResponseError naming the field, never quoting it', async () => {
    await fc.assert(
      fc.asyncProperty(unsendable, fc.constantFrom('access_token', 'token_type'), async (value, field) => {
        const body = { access_token: 'good.token', token_type: 'Bearer', expires_in: 60, [field]: value }
        const error = await parseTokenResponse(answer(body)).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(TokenResponseError)
        expect(error).toMatchObject({ code: 'ERR_TOKEN_RESPONSE' })
        const { message } = error as Error
        expect(message).toContain(field)
        expect(message).not.toContain(value)
        expect(JSON.stringify(error)).not.toContain(JSON.stringify(value).slice(1, -1))
      }),
    )
  })

  it('accepts every visible-ASCII token (RFC 6750 b64token and wider)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({
          unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
          minLength: 1,
        }),
        async (accessToken) => {
          const token = await parseTokenResponse(answer({ access_token: accessToken, token_type: 'Bearer' }))
          expect(token.accessToken).toBe(accessToken)
        },
      ),
    )
  })

  it('is never cached: each call asks again and fails again', async () => {
    let hits = 0
    const fetch = async () => {
      hits++
      return answer({ access_token: 'abc\r\nX-Injected: 1', token_type: 'Bearer', expires_in: 300 })
    }
    const provider = createTokenProvider({
      tokenEndpoint: 'https://as.test/token',
      clientId: 'c',
      clientSecret: 's',
      fetch,
      retry: false,
      failureCooldown: 0,
    })
    for (let i = 0; i < 3; i++) {
      await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE' })
      expect(provider.peekToken()).toBeUndefined()
    }
    expect(hits).toBe(3)
  })
})
