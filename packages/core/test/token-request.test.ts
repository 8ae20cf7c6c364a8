import { server } from '@tokenwell/mock-server/msw'
import { delay, HttpResponse, http } from 'msw'
import { expect, it } from 'vitest'
import { createTokenProvider, TokenRequestError, TokenResponseError } from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'

it('a network failure is a TokenRequestError with the cause attached', async () => {
  server.use(http.post(tokenEndpoint, () => HttpResponse.error()))
  const error = await createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
    .getToken()
    .catch((e) => e)
  expect(error).toBeInstanceOf(TokenRequestError)
  expect(error.code).toBe('ERR_TOKEN_REQUEST')
  expect(error.cause).toBeInstanceOf(Error)
})

it('a token request slower than timeout fails with TokenRequestError', async () => {
  server.use(
    http.post(tokenEndpoint, async () => {
      await delay(2_000)
      return HttpResponse.json({ access_token: 'late', token_type: 'Bearer' })
    }),
  )
  const error = await createTokenProvider({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    retry: false,
    timeout: 50,
  })
    .getToken()
    .catch((e) => e)
  expect(error).toBeInstanceOf(TokenRequestError)
  expect(error.message).toBe('token request timed out after 50 ms')
})

it('a redirecting token endpoint is refused rather than followed with credentials', async () => {
  server.use(
    http.post(
      tokenEndpoint,
      () => new HttpResponse(null, { status: 307, headers: { location: 'https://evil.test/token' } }),
    ),
  )
  const error = await createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
    .getToken()
    .catch((e) => e)
  expect(error).toBeInstanceOf(TokenResponseError)
  expect(error.message).toMatch(/redirected \(HTTP 307\)/)
})

it('uses an injected fetch', async () => {
  const seen: string[] = []
  const provider = createTokenProvider({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    fetch: async (request) => {
      seen.push(request.url)
      return Response.json({ access_token: 'injected', token_type: 'Bearer', expires_in: 60 })
    },
  })
  expect((await provider.getToken()).accessToken).toBe('injected')
  expect(seen).toEqual([tokenEndpoint])
})
