import {
  createMemoryTokenStore,
  createTokenProvider,
  type StoreEntry,
  type TokenStore,
} from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Recorder, startRecorder } from './support/recorder.js'

// Rule 6's last sentence for a token that arrives from a shared store (Redis, another tab, another
// version of the program) rather than from the token endpoint: one that cannot be sent as a header
// value is rejected, not served.
describe('a store entry whose access token cannot be a header value', () => {
  let recorder: Recorder
  beforeAll(async () => {
    recorder = await startRecorder()
  })
  afterAll(() => recorder.close())

  it.each([
    ['a line break', 'tok\r\nx-injected: 1'],
    ['a space', 'tok with space'],
    ['a non-ASCII character', 'tök-SECRET'],
  ])(
    'with %s: not served; the endpoint is asked and the request goes with a good token',
    async (_label, bad) => {
      const memory = createMemoryTokenStore()
      const now = Date.now()
      const corrupt: StoreEntry = {
        token: { accessToken: bad, tokenType: 'Bearer', expiresAt: now + 300_000, raw: {} },
        refreshAt: now + 270_000,
        obtainedAt: now,
        fingerprint: '0'.repeat(64),
      }
      const store: TokenStore = { ...memory, get: async () => corrupt }
      let asked = 0
      const provider = createTokenProvider({
        tokenEndpoint: 'http://127.0.0.1:1/token',
        clientId: 'c',
        clientSecret: 's',
        store,
        fetch: async () => {
          asked++
          return Response.json({ access_token: 'good-token', token_type: 'Bearer', expires_in: 300 })
        },
      })
      const authFetch = withOAuth2(provider, { match: recorder.url })
      const response = await authFetch(`${recorder.url}/x`).catch((error: unknown) => error)
      await provider.close()
      expect(response).toBeInstanceOf(Response)
      expect(asked).toBe(1)
    },
  )
})
