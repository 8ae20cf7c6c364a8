import { createTokenProvider, type TokenStore } from '@tokenwell/core'
import { mockAuthHandlers, server } from '@tokenwell/mock-server/msw'
import { instrumentTokenProvider } from '@tokenwell/opentelemetry'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { createTestSdk } from './otel-sdk.js'

// Secrets that a hostile or careless party puts everywhere it can: the server echoes the client
// secret as its error code and description, a store throws it as its message and error name.
const secret = fc.string({ minLength: 8, maxLength: 40 }).filter((s) => s.trim().length >= 8)

it('puts no client secret, token or echoed secret in any span, span event or metric', async () => {
  await fc.assert(
    fc.asyncProperty(secret, async (clientSecret) => {
      const sdk = createTestSdk()
      const auth = mockAuthHandlers({
        baseUrl: 'https://as.test',
        clients: [{ clientId: 'svc', clientSecret }],
      })
      server.use(...auth)
      const leaky = Object.assign(new Error(`store said ${clientSecret}`), {
        name: clientSecret,
        code: clientSecret,
      })
      const store: TokenStore = {
        get: () => Promise.reject(leaky),
        set: () => Promise.reject(leaky),
        delete: () => Promise.reject(leaky),
      }
      const options = { tokenEndpoint: 'https://as.test/token', clientId: 'svc', clientSecret, store }
      const provider = instrumentTokenProvider(createTokenProvider({ ...options, failureCooldown: 0 }), {
        meterProvider: sdk.meterProvider,
        tracerProvider: sdk.tracerProvider,
      })
      auth.authServer.failNext(1, {
        status: 503,
        error: clientSecret,
        errorDescription: `bad secret ${clientSecret}`,
        headers: { 'retry-after': '0' },
      })
      const token = await provider.getToken()
      await provider.invalidate(token)
      auth.authServer.failNext(1, { status: 400, error: clientSecret, errorDescription: clientSecret })
      await provider.getToken().catch(() => {})
      const second = await provider.getToken()

      const exported = await sdk.dump()
      expect(sdk.spans().length).toBe(3)
      for (const value of [clientSecret, token.accessToken, second.accessToken]) {
        expect(exported).not.toContain(value)
        expect(exported).not.toContain(JSON.stringify(value).slice(1, -1))
      }
      await provider.close()
      await sdk.shutdown()
      server.resetHandlers()
    }),
    { numRuns: 25 },
  )
})
