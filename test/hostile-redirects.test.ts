import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { harnesses } from './support/adapters.js'
import { issuingProvider, type Recorder, startRecorder } from './support/recorder.js'

/** One scripted answer of the hostile API to a send of the request, or of a hop back to it. */
interface Answer {
  status: number
  challenge: string | undefined
  /** Where a redirect status points: nowhere, the same origin, the second origin, or there and back. */
  redirect: 'none' | 'self' | 'away' | 'away-and-back'
}

const answer: fc.Arbitrary<Answer> = fc.record({
  status: fc.constantFrom(200, 301, 302, 303, 307, 308, 401, 401, 403, 500, 503),
  challenge: fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 60 }),
    fc.constantFrom(
      'Bearer error="invalid_token"',
      'Bearer error="insufficient_scope"',
      'DPoP error="use_dpop_nonce"',
      'Bearer realm="x", error="insufficient_scope',
      '"""',
    ),
  ),
  redirect: fc.constantFrom('none', 'self', 'away', 'away-and-back'),
})

// Random statuses, challenges and redirect chains through every adapter: each request settles,
// the request itself is sent at most twice, no error shows a token, the second origin gets none.
describe('adapters against hostile statuses, challenges and redirects', () => {
  let server: Server
  let baseUrl: string
  let recorder: Recorder
  let script: Answer[] = []
  let sends = 0
  let answered = 0

  beforeAll(async () => {
    recorder = await startRecorder()
    server = createServer((req, res) => {
      req.resume()
      if (req.url?.startsWith('/hostile')) sends++
      const next = script[Math.min(answered++, script.length - 1)]!
      const headers: Record<string, string> = {}
      if (next.challenge !== undefined) headers['www-authenticate'] = next.challenge.replace(/[\r\n]/g, ' ')
      const redirect = next.status >= 300 && next.status < 400
      const back = `${baseUrl}/back`
      if (redirect && next.redirect === 'self') headers['location'] = '/hop'
      if (redirect && next.redirect === 'away') headers['location'] = `${recorder.url}/landing`
      if (redirect && next.redirect === 'away-and-back')
        headers['location'] = `${recorder.url}/bounce?to=${encodeURIComponent(back)}`
      res.writeHead(next.status, headers).end(redirect ? undefined : 'body')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await recorder.close()
  })

  it.each(harnesses)(
    '$name: settles, sends at most twice, leaks no token',
    async (harness) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(answer, { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          async (answers, httpErrors) => {
            script = answers
            sends = 0
            answered = 0
            recorder.requests.length = 0
            const tokens: string[] = []
            const provider = issuingProvider(tokens, false, { retry: false, failureCooldown: 0 })
            const client = harness.create(provider, baseUrl)
            try {
              const { error } = await client.attempt({ target: '/hostile', method: 'POST', httpErrors })
              expect(sends).toBeLessThanOrEqual(2)
              const shown =
                error === undefined ? '' : `${inspect(error, { depth: Number.POSITIVE_INFINITY })}${error}`
              expect(shown).not.toContain('SECRET')
              expect(recorder.text()).not.toContain('SECRET')
              expect(tokens.length).toBeLessThanOrEqual(2)
            } finally {
              client.close()
              await provider.close()
            }
          },
        ),
        { numRuns: 25 },
      )
    },
    180_000,
  ) // got's redirects and retries under a loaded machine
})
