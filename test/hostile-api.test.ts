import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { harnesses } from './support/adapters.js'

/** One scripted answer of the hostile API. */
interface Answer {
  status: number
  challenge: string | undefined
  contentType: string
  body: string
}

// WWW-Authenticate values a broken or hostile resource server might send (RFC 6750 §3, RFC 9110 §11.6.1)
const challenge = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 80 }),
  fc.constantFrom(
    'Bearer error="invalid_token"',
    'Bearer error="insufficient_scope", scope="a b"',
    'Bearer realm="x", error="insufficient_scope',
    'DPoP error="use_dpop_nonce"',
    'Basic, Bearer error=invalid_token',
    'Bearer error="invalid_token", Bearer error="insufficient_scope"',
    '"""',
    'Bearer ,,,,',
  ),
)
const answer: fc.Arbitrary<Answer> = fc.record({
  status: fc.constantFrom(200, 204, 301, 400, 401, 401, 401, 403, 404, 429, 500, 503),
  challenge,
  contentType: fc.constantFrom('application/json', 'text/html', 'text/plain', ''),
  body: fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  ),
})

describe('adapters against a hostile resource server', () => {
  let server: Server
  let baseUrl: string
  let script: Answer[] = []
  let hits = 0

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      const next = script[Math.min(hits, script.length - 1)]!
      hits++
      const headers: Record<string, string> = {}
      if (next.challenge !== undefined) headers['www-authenticate'] = next.challenge.replace(/[\r\n]/g, ' ')
      if (next.contentType) headers['content-type'] = next.contentType
      // a 301 without Location and a 204 with no body keep the clients on this origin
      res.writeHead(next.status, headers)
      res.end(next.status === 204 ? undefined : next.body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  function provider(): { provider: TokenProvider; tokens: () => number } {
    let issued = 0
    const p = createTokenProvider({
      tokenEndpoint: 'http://127.0.0.1:1/token',
      clientId: 'c',
      clientSecret: 's',
      retry: false,
      failureCooldown: 0,
      fetch: async () =>
        Response.json({ access_token: `tok-${++issued}-SECRET`, token_type: 'Bearer', expires_in: 300 }),
    })
    return { provider: p, tokens: () => issued }
  }

  it.each(harnesses)(
    '$name: every answer ends in a response or an error, sent at most twice, no token in an error',
    async (harness) => {
      await fc.assert(
        fc.asyncProperty(answer, answer, async (first, second) => {
          script = [first, second]
          hits = 0
          const { provider: p, tokens } = provider()
          const client = harness.create(p, baseUrl)
          try {
            const outcome = await client.send('POST', '/hostile', 'json')
            // a 401 may be replayed once; anything else is returned as it came
            expect(hits).toBeLessThanOrEqual(2)
            expect(outcome.status).toBe(hits === 2 ? second.status : first.status)
            if (hits === 2) expect(first.status).toBe(401)
            // the plain cases have one right answer: replay after invalid_token, never after insufficient_scope
            if (
              first.status === 401 &&
              (first.challenge === undefined || first.challenge === 'Bearer error="invalid_token"')
            )
              expect(hits).toBe(2)
            if (first.challenge === 'Bearer error="insufficient_scope", scope="a b"') expect(hits).toBe(1)
            expect(tokens()).toBe(hits)
          } catch (error) {
            expect(hits).toBeLessThanOrEqual(2)
            expect(String(error)).not.toContain('SECRET')
            expect(String((error as Error).message)).not.toContain('SECRET')
          } finally {
            client.close()
            await p.close()
          }
        }),
        { numRuns: 60 },
      )
    },
  )
})
