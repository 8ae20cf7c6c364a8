import { Readable } from 'node:stream'
import { InsecureHttpError, TokenwellError } from '@tokenwell/core'
import { oauth2Hooks } from '@tokenwell/got'
import { server } from '@tokenwell/mock-server/msw'
import got, { HTTPError, RequestError } from 'got'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { dpopOAuth, fakeOAuth } from '../../../test/support/msw-oauth.js'

function client(oauth: ReturnType<typeof fakeOAuth>, prefixUrl: string | null = 'https://api.test') {
  return got.extend(oauth2Hooks(oauth.provider), prefixUrl === null ? {} : { prefixUrl })
}

describe('oauth2Hooks', () => {
  it('sends no token to another origin than prefixUrl by default, and to every origin without prefixUrl', async () => {
    const oauth = fakeOAuth()
    const seen: (string | null)[] = []
    server.use(
      http.put('https://storage.test/*', ({ request }) => {
        seen.push(request.headers.get('authorization'))
        return HttpResponse.json({})
      }),
    )
    // with a prefixUrl, got only takes an absolute URL with prefixUrl: '': the instance's base still decides
    await client(oauth).put('https://storage.test/presigned?sig=1', { prefixUrl: '', body: 'file' })
    await client(oauth, null).put('https://storage.test/anywhere', { body: 'file' })
    expect(seen).toEqual([null, 'Bearer t1'])
    await client(oauth).get('https://api.test/absolute', { prefixUrl: '' })
    expect(oauth.sentTo('/absolute')[0]?.authorization).toBe('Bearer t1')
    const strict = got.extend(oauth2Hooks(oauth.provider, { match: 'https://api.test' }))
    await strict.put('https://storage.test/presigned', { body: 'file' })
    expect(seen.at(-1)).toBeNull()
  })

  it('leaves a request that has its own authorization alone', async () => {
    const oauth = fakeOAuth()
    const api = client(oauth)
    await api.get('a', { headers: { authorization: 'Basic abc' } })
    await api.get('b', { username: 'user', password: 'pw' })
    expect(oauth.seen.map((s) => s.authorization)).toEqual(['Basic abc', `Basic ${btoa('user:pw')}`])
    expect(oauth.tokenRequests()).toBe(0)
  })

  it('refuses plain http to a host that is not loopback unless allowed', async () => {
    const oauth = fakeOAuth()
    let sent = 0
    server.use(
      http.get('http://plain.test/*', () => {
        sent++
        return HttpResponse.json({})
      }),
    )
    const error = await client(oauth, 'http://plain.test')
      .get('x')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RequestError)
    expect((error as RequestError).code).toBe('ERR_INSECURE_HTTP')
    expect((error as RequestError).cause).toBeInstanceOf(InsecureHttpError)
    expect((error as Error).message).toContain('allowInsecureHttp')
    expect(sent).toBe(0)
    const allowed = got.extend(oauth2Hooks(oauth.provider, { allowInsecureHttp: true }), {
      prefixUrl: 'http://plain.test',
    })
    expect((await allowed.get('x')).statusCode).toBe(200)
  })

  it('rejects a second 401 with got HTTPError, response attached, after exactly two sends', async () => {
    const oauth = fakeOAuth()
    const error = await client(oauth)
      .get('always-401')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HTTPError)
    expect((error as HTTPError).response.statusCode).toBe(401)
    expect(JSON.parse(String((error as HTTPError).response.body))).toEqual({ error: 'invalid_token' })
    expect(oauth.sentTo('/always-401')).toHaveLength(2)
    const response = await client(oauth).get('always-401', { throwHttpErrors: false })
    expect(response.statusCode).toBe(401)
    expect(oauth.sentTo('/always-401')).toHaveLength(4)
  })

  it('keeps got own retries working, with the token on each attempt, and does not spend them on the replay', async () => {
    const oauth = fakeOAuth()
    let flaky = 0
    server.use(
      http.get('https://api.test/flaky', ({ request }) => {
        oauth.seen.push({
          path: '/flaky',
          method: 'GET',
          authorization: request.headers.get('authorization'),
          contentType: null,
          body: '',
        })
        return ++flaky === 1 ? new HttpResponse(null, { status: 503 }) : HttpResponse.json({ ok: true })
      }),
    )
    const api = got.extend(oauth2Hooks(oauth.provider), {
      prefixUrl: 'https://api.test',
      retry: { limit: 1, backoffLimit: 10 },
    })
    expect((await api.get('flaky')).statusCode).toBe(200)
    expect(oauth.sentTo('/flaky').map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t1'])
    oauth.revokeAll()
    const noRetries = got.extend(oauth2Hooks(oauth.provider), {
      prefixUrl: 'https://api.test',
      retry: { limit: 0 },
    })
    expect((await noRetries.get('after-revoke')).statusCode).toBe(200)
    expect(oauth.sentTo('/after-revoke').map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2'])
  })

  it('keeps the caller hooks running', async () => {
    const oauth = fakeOAuth()
    const calls: string[] = []
    const api = client(oauth).extend({
      hooks: {
        beforeRequest: [(options) => void calls.push(`before ${String(options.headers.authorization)}`)],
        afterResponse: [
          (response) => {
            calls.push(`after ${response.statusCode}`)
            return response
          },
        ],
      },
    })
    await api.get('warm')
    oauth.revokeAll()
    await api.get('x')
    expect(calls).toEqual([
      'before Bearer t1',
      'after 200',
      'before Bearer t1',
      // the replay: got runs the hooks again for it
      'before Bearer t2',
      'after 200',
    ])
  })

  it('sends a stream body once and returns the 401 rather than replay an empty body', async () => {
    const oauth = fakeOAuth()
    const error = await client(oauth)
      .post('always-401', { body: Readable.from([Buffer.from('streamed')]) })
      .catch((e: unknown) => e)
    expect((error as HTTPError).response.statusCode).toBe(401)
    expect(oauth.sentTo('/always-401').map((s) => s.body)).toEqual(['streamed'])
  })

  it('bounds the wait for a token by got timeout.request', async () => {
    const oauth = fakeOAuth({ tokenLatency: 200 })
    const error = await client(oauth)
      .get('slow-token', { timeout: { request: 20 } })
      .catch((e: unknown) => e)
    expect((error as RequestError).code).toBe('ERR_TOKEN_REQUEST')
    expect(oauth.sentTo('/slow-token')).toHaveLength(0)
  })

  it('fails with the token error as cause when the token cannot be obtained, and sends nothing', async () => {
    const oauth = fakeOAuth()
    server.use(
      http.post('https://as.test/token', () =>
        HttpResponse.json({ error: 'invalid_client' }, { status: 401 }),
      ),
    )
    const error = await client(oauth)
      .get('x')
      .catch((e: unknown) => e)
    expect((error as RequestError).code).toBe('ERR_OAUTH')
    expect((error as RequestError).cause).toBeInstanceOf(TokenwellError)
    expect(oauth.seen).toHaveLength(0)
  })
})

describe('oauth2Hooks with DPoP (RFC 9449)', () => {
  const prefixUrl = 'https://dpop-api.test'
  const dpopClient = (oauth: ReturnType<typeof dpopOAuth>, retry = 0) =>
    got.extend(oauth2Hooks(oauth.provider), { prefixUrl, throwHttpErrors: false, retry: { limit: retry } })

  it('gives got’s own retries a new proof each (the API refuses a reused one)', async () => {
    const oauth = dpopOAuth()
    oauth.api.failNext(1, { status: 503 })
    expect((await dpopClient(oauth, 1).get('echo/flaky')).statusCode).toBe(200)
    expect(oauth.api.requests.map((r) => r.status)).toEqual([503, 200])
  })
})
