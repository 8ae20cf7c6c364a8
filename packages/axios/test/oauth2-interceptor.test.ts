import { Readable } from 'node:stream'
import { oauth2Interceptor } from '@tokenwell/axios'
import { InsecureHttpError, TokenwellError } from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import axios, { AxiosError } from 'axios'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { fakeOAuth } from './fixtures.js'

function client(oauth: ReturnType<typeof fakeOAuth>, baseURL: string | null = 'https://api.test') {
  const instance = axios.create(baseURL === null ? {} : { baseURL })
  const eject = oauth2Interceptor(instance, oauth.provider)
  return { instance, eject }
}

describe('oauth2Interceptor', () => {
  it('attaches the bearer token and fetches it once for many concurrent requests', async () => {
    const oauth = fakeOAuth({ tokenLatency: 20 })
    const { instance } = client(oauth)
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => instance.get(`/items/${i}`)))
    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(oauth.tokenRequests()).toBe(1)
    expect(new Set(oauth.seen.map((s) => s.authorization))).toEqual(new Set(['Bearer t1']))
  })

  it('sends no token to another origin than baseURL by default, and to every origin without baseURL', async () => {
    const oauth = fakeOAuth()
    const seen: (string | null)[] = []
    server.use(
      http.put('https://storage.test/*', ({ request }) => {
        seen.push(request.headers.get('authorization'))
        return HttpResponse.json({})
      }),
    )
    await client(oauth).instance.put('https://storage.test/presigned?sig=1', 'file')
    await client(oauth, null).instance.put('https://storage.test/anywhere', 'file')
    expect(seen).toEqual([null, 'Bearer t1'])
  })

  it('follows match over the baseURL default', async () => {
    const oauth = fakeOAuth()
    server.use(
      http.get('https://other.test/*', ({ request }) =>
        HttpResponse.text(request.headers.get('authorization')),
      ),
    )
    const instance = axios.create({ baseURL: 'https://api.test' })
    oauth2Interceptor(instance, oauth.provider, { match: ['https://api.test', /^https:\/\/other\.test\//] })
    expect((await instance.get('https://other.test/x')).data).toBe('Bearer t1')
  })

  it('leaves a request that has its own Authorization alone, wherever it was set', async () => {
    const oauth = fakeOAuth()
    const { instance } = client(oauth)
    await instance.get('/a', { headers: { authorization: 'Basic abc' } })
    instance.defaults.headers.common['Authorization'] = 'Bearer from-defaults'
    await instance.get('/b')
    delete instance.defaults.headers.common['Authorization']
    // registered later, so it runs before ours
    instance.interceptors.request.use((config) => {
      config.headers.set('Authorization', 'Bearer from-interceptor')
      return config
    })
    await instance.get('/c')
    expect(oauth.seen.map((s) => s.authorization)).toEqual([
      'Basic abc',
      'Bearer from-defaults',
      'Bearer from-interceptor',
    ])
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
      .instance.get('/x')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InsecureHttpError)
    expect((error as Error).message).toContain('allowInsecureHttp')
    expect(sent).toBe(0)
    const allowed = axios.create({ baseURL: 'http://plain.test' })
    oauth2Interceptor(allowed, oauth.provider, { allowInsecureHttp: true })
    expect((await allowed.get('/x')).status).toBe(200)
  })

  it('after a 401 renews the token once and replays the request once', async () => {
    const oauth = fakeOAuth()
    const { instance } = client(oauth)
    await instance.get('/warm')
    oauth.revokeAll()
    const response = await instance.post('/orders', { id: 1 })
    expect(response.status).toBe(200)
    expect(oauth.sentTo('/orders').map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2'])
    expect(oauth.tokenRequests()).toBe(2)
  })

  it('rejects a second 401 with the AxiosError axios made, response attached, after exactly two sends', async () => {
    const oauth = fakeOAuth()
    const error = await client(oauth)
      .instance.get('/always-401')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AxiosError)
    expect(axios.isAxiosError(error)).toBe(true)
    expect((error as AxiosError).response?.status).toBe(401)
    expect((error as AxiosError).response?.data).toEqual({ error: 'invalid_token' })
    expect(oauth.sentTo('/always-401')).toHaveLength(2)
  })

  it('replays a 401 that validateStatus accepts, and returns the second one as a response', async () => {
    const oauth = fakeOAuth()
    const instance = axios.create({ baseURL: 'https://api.test', validateStatus: () => true })
    oauth2Interceptor(instance, oauth.provider)
    await instance.get('/warm')
    oauth.revokeAll()
    expect((await instance.get('/ok')).status).toBe(200)
    expect((await instance.get('/always-401')).status).toBe(401)
    expect(oauth.sentTo('/ok')).toHaveLength(2)
    expect(oauth.sentTo('/always-401')).toHaveLength(2)
  })

  it('renews once for a storm of concurrent 401s carrying the same stale token', async () => {
    const oauth = fakeOAuth({ tokenLatency: 20 })
    const { instance } = client(oauth)
    await instance.get('/warm')
    oauth.revokeAll()
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => instance.get(`/storm/${i}`)))
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200))
    expect(oauth.tokenRequests()).toBe(2)
    const sends = new Map<string, number>()
    for (const { path } of oauth.seen.slice(1)) sends.set(path, (sends.get(path) ?? 0) + 1)
    expect(Math.max(...sends.values())).toBe(2)
  })

  it('does not replay insufficient_scope', async () => {
    const oauth = fakeOAuth()
    const error = await client(oauth)
      .instance.get('/insufficient-scope')
      .catch((e: unknown) => e)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(oauth.sentTo('/insufficient-scope')).toHaveLength(1)
  })

  const form = () => {
    const data = new FormData()
    data.set('name', 'ada')
    data.set(
      'file',
      new Blob([new Uint8Array([0, 1, 2, 255])], { type: 'application/octet-stream' }),
      'f.bin',
    )
    return data
  }
  it.each([
    ['JSON', () => ({ a: [1, 'é'], b: null })],
    ['a string', () => 'plain text ✓'],
    ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'x y' })],
    ['FormData', form],
    ['a Blob', () => new Blob([new Uint8Array([1, 2, 3, 0, 254])], { type: 'image/x-test' })],
    ['an ArrayBuffer', () => new Uint8Array([9, 8, 7, 0]).buffer],
  ])('replays %s body byte for byte', async (_, body) => {
    const oauth = fakeOAuth()
    const { instance } = client(oauth)
    await instance.get('/warm')
    oauth.revokeAll()
    const response = await instance.put('/upload', body())
    expect(response.status).toBe(200)
    const [first, replay] = oauth.sentTo('/upload')
    expect(first?.body.length).toBeGreaterThan(0)
    expect(replay?.method).toBe('PUT')
    expect(replay?.authorization).toBe('Bearer t2')
    expect(replay?.body).toBe(first?.body)
    expect(replay?.contentType).toBe(first?.contentType)
  })

  it('sends a stream body once and returns the 401 rather than replay an empty body', async () => {
    const oauth = fakeOAuth()
    const error = await client(oauth)
      .instance.post('/always-401', Readable.from([Buffer.from('streamed')]))
      .catch((e: unknown) => e)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(oauth.sentTo('/always-401').map((s) => s.body)).toEqual(['streamed'])
  })

  it('passes the caller abort to its own wait only: the shared token request goes on', async () => {
    const oauth = fakeOAuth({ tokenLatency: 50 })
    const { instance } = client(oauth)
    const controller = new AbortController()
    const aborted = instance.get('/a', { signal: controller.signal })
    const other = instance.get('/b')
    controller.abort()
    const error = await aborted.catch((e: unknown) => e)
    expect(axios.isCancel(error)).toBe(true)
    expect((await other).status).toBe(200)
    expect(oauth.tokenRequests()).toBe(1)
    expect(oauth.sentTo('/a')).toHaveLength(0)
  })

  it('bounds the wait for a token by the axios timeout', async () => {
    const oauth = fakeOAuth({ tokenLatency: 200 })
    const { instance } = client(oauth)
    const error = await instance.get('/slow-token', { timeout: 20 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenwellError)
    expect((error as TokenwellError).code).toBe('ERR_TOKEN_REQUEST')
    expect(oauth.sentTo('/slow-token')).toHaveLength(0)
  })

  it('eject() removes both interceptors', async () => {
    const oauth = fakeOAuth()
    const { instance, eject } = client(oauth)
    eject()
    await instance.get('/after-eject')
    const error = await instance.get('/always-401').catch((e: unknown) => e)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(oauth.seen.map((s) => [s.path, s.authorization])).toEqual([
      ['/after-eject', null],
      ['/always-401', null],
    ])
    expect(oauth.tokenRequests()).toBe(0)
  })

  it('rejects with the token error when the token cannot be obtained, and sends nothing', async () => {
    const oauth = fakeOAuth()
    server.use(
      http.post('https://as.test/token', () =>
        HttpResponse.json({ error: 'invalid_client' }, { status: 401 }),
      ),
    )
    const error = await client(oauth)
      .instance.get('/x')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenwellError)
    expect((error as TokenwellError).code).toBe('ERR_OAUTH')
    expect(oauth.seen).toHaveLength(0)
  })
})
