import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTokenProvider, isTokenwellError, parseTokenResponse } from '../src/index.js'

const SECRET = 'client-secret-0xDEADBEEF'

/** Bodies a broken or hostile server might send: random text, random JSON, near-valid token responses. */
const jsonValue = fc.jsonValue({ maxDepth: 3 })
const nearToken = fc.record(
  {
    access_token: fc.oneof(fc.string(), jsonValue),
    token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'DPoP', 'mac', ''), jsonValue),
    expires_in: fc.oneof(fc.integer(), fc.double(), fc.string(), jsonValue),
    error: fc.oneof(fc.string(), jsonValue),
    scope: fc.oneof(fc.string(), jsonValue),
    refresh_token: fc.oneof(fc.string(), jsonValue),
  },
  { requiredKeys: [] },
)
const body = fc.oneof(
  fc.string({ maxLength: 200 }),
  jsonValue.map((v) => JSON.stringify(v)),
  nearToken.map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '',
    '<html><body>502 Bad Gateway</body></html>',
    '{"access_token":',
    '\u0000\u0001',
    'null',
  ),
)
const status = fc.constantFrom(200, 201, 204, 400, 401, 403, 404, 429, 500, 502, 503)
const contentType = fc.constantFrom(
  'application/json',
  'text/html',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
)

describe('hostile and broken token responses', () => {
  it('the parser ends every case in a token or a typed TokenwellError', async () => {
    await fc.assert(
      fc.asyncProperty(body, status, contentType, async (text, code, type) => {
        const response = new Response(code === 204 ? null : text, {
          status: code,
          headers: type ? { 'content-type': type } : {},
        })
        try {
          const token = await parseTokenResponse(response, { now: 0 })
          expect(typeof token.accessToken).toBe('string')
          expect(token.accessToken.length).toBeGreaterThan(0)
          expect(Number.isFinite(token.expiresAt)).toBe(true)
        } catch (error) {
          expect(isTokenwellError(error)).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('the provider turns every hostile answer into a token or a typed error without the secret', async () => {
    await fc.assert(
      fc.asyncProperty(body, status, contentType, async (text, code, type) => {
        const provider = createTokenProvider({
          tokenEndpoint: 'https://as.test/token',
          clientId: 'c',
          clientSecret: SECRET,
          retry: false,
          fetch: async () =>
            new Response(code === 204 ? null : text, {
              status: code,
              headers: type ? { 'content-type': type } : {},
            }),
        })
        try {
          await provider.getToken()
        } catch (error) {
          expect(isTokenwellError(error)).toBe(true)
          expect(String(error)).not.toContain(SECRET)
          expect(JSON.stringify(error)).not.toContain(SECRET)
        }
      }),
      { numRuns: 200 },
    )
  }, 20_000) // 200 providers, each failing once: seconds on a loaded machine

  it('a huge body is cut off at maxResponseBytes', async () => {
    let pulled = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x61))
        if (pulled > 10_000) controller.close()
      },
    })
    const provider = createTokenProvider({
      tokenEndpoint: 'https://as.test/token',
      clientId: 'c',
      clientSecret: 's',
      retry: false,
      fetch: async () => new Response(stream, { headers: { 'content-type': 'application/json' } }),
    })
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE' })
    expect(pulled).toBeLessThan(10)
  })

  it('a body that trickles forever ends in a timeout, not a hang', async () => {
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        controller.enqueue(new TextEncoder().encode(' '))
      },
    })
    const provider = createTokenProvider({
      tokenEndpoint: 'https://as.test/token',
      clientId: 'c',
      clientSecret: 's',
      retry: false,
      timeout: 100,
      fetch: async () => new Response(stream),
    })
    await expect(provider.getToken()).rejects.toMatchObject({
      code: 'ERR_TOKEN_REQUEST',
      message: 'token request timed out after 100 ms',
    })
  })
})
