import { Readable } from 'node:stream'
import { oauth2Interceptor } from '@tokenwell/axios'
import { InsecureHttpError, TokenwellError } from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import axios, { AxiosError } from 'axios'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { dpopOAuth, fakeOAuth } from '../../../test/support/msw-oauth.js'

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
    oauth2Interceptor(instance, oauth.provider, { match: ['https://api.test', /^https:\/\/other\.test$/] })
    expect((await instance.get('https://other.test/x')).data).toBe('Bearer t1')
  })

  it('decides by the origin of the URL axios sends to, whatever shape baseURL and url take', async () => {
    const oauth = fakeOAuth()
    const seen: [string, string | null][] = []
    server.use(
      http.get('https://storage.test/*', ({ request }) => {
        seen.push([request.url, request.headers.get('authorization')])
        return HttpResponse.json({})
      }),
    )
    const authorizationAt = async (instance: ReturnType<typeof axios.create>, url: string, extra = {}) => {
      await instance.get(url, extra)
      return oauth.seen.at(-1)?.authorization ?? null
    }
    const withPath = axios.create({ baseURL: 'https://api.test/v1//' })
    oauth2Interceptor(withPath, oauth.provider)
    expect(await authorizationAt(withPath, 'items')).toBe('Bearer t1')
    expect(await authorizationAt(withPath, '/items', { params: { q: 'a b' } })).toBe('Bearer t1')
    expect(await authorizationAt(withPath, 'https://api.test/absolute')).toBe('Bearer t1')
    // an absolute URL elsewhere gets nothing, unless axios is told to keep it under baseURL
    await withPath.get('https://storage.test/x')
    expect(seen.at(-1)).toEqual(['https://storage.test/x', null])
    await withPath.get('https://storage.test/y', { allowAbsoluteUrls: false })
    expect(oauth.seen.at(-1)).toMatchObject({
      path: '/v1/https://storage.test/y',
      authorization: 'Bearer t1',
    })
    // a base URL with a backslash and a default port: its origin still decides
    const odd = axios.create({ baseURL: 'https://api.test:443\\v2' })
    oauth2Interceptor(odd, oauth.provider)
    expect(await authorizationAt(odd, '/z')).toBe('Bearer t1')
    expect(oauth.seen.at(-1)?.path).toBe('/v2/z')
    expect(oauth.tokenRequests()).toBe(1)
  })

  it('lets a predicate match see the whole URL, path and params, under baseURL', async () => {
    const oauth = fakeOAuth()
    const instance = axios.create({ baseURL: 'https://api.test/v1' })
    oauth2Interceptor(instance, oauth.provider, {
      match: [
        (url) => url.pathname.startsWith('/v1/public/'),
        (url) => url.searchParams.get('auth') === 'yes',
      ],
    })
    await instance.get('/public/a')
    await instance.get('/private/b')
    await instance.get('/private/c', { params: { auth: 'yes' } })
    expect(oauth.seen.map((s) => [s.path, s.authorization])).toEqual([
      ['/v1/public/a', 'Bearer t1'],
      ['/v1/private/b', null],
      ['/v1/private/c', 'Bearer t1'],
    ])
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

  it('chains the caller’s own beforeRedirect after its own: the token comes off a hop that leaves the origin first', async () => {
    const oauth = fakeOAuth()
    const { instance } = client(oauth)
    const hooks: ((options: Record<string, unknown>, response: object) => void)[] = []
    // axios hands config.beforeRedirect to follow-redirects; older ones keep the token on a subdomain
    instance.defaults.adapter = async (config) => {
      hooks.push(config.beforeRedirect as (typeof hooks)[number])
      return { data: '', status: 200, statusText: 'OK', headers: {}, config }
    }
    const theirs: string[] = []
    const beforeRedirect = (options: Record<string, unknown>) => {
      theirs.push(Object.keys(options['headers'] as object).join(','))
    }
    await instance.get('/a', { beforeRedirect })
    await instance.get('/b')
    const hop = (href: string) => ({ href, headers: { Authorization: 'Bearer t1', Accept: '*/*' } })
    const away = hop('https://sub.api.test/x')
    hooks[0]!(away, {})
    expect(away.headers).toEqual({ Accept: '*/*' })
    expect(theirs).toEqual(['Accept']) // theirs ran, after ours
    const home = hop('https://api.test/y')
    hooks[0]!(home, {})
    expect(home.headers).toHaveProperty('Authorization')
    expect(theirs).toHaveLength(2)
    hooks[1]!(hop('https://sub.api.test/z'), {}) // a request without a hook of its own: ours only
    expect(theirs).toHaveLength(2)
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

describe('oauth2Interceptor with DPoP (RFC 9449)', () => {
  const dpopClient = (oauth: ReturnType<typeof dpopOAuth>) => {
    const instance = axios.create({ baseURL: 'https://dpop-api.test', validateStatus: () => true })
    oauth2Interceptor(instance, oauth.provider)
    return instance
  }

  it('sends Authorization: DPoP with a proof per request that the API accepts; one token request', async () => {
    const oauth = dpopOAuth()
    const api = dpopClient(oauth)
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => api.post(`/echo/${i}?q=1`, 'x')))
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(responses[0]!.data).toMatchObject({ authorized: true, method: 'POST', path: '/echo/0' })
    expect(oauth.api.requests.every((r) => r.authorization && r.dpop)).toBe(true)
    expect(oauth.api.stats.requests).toBe(20)
    expect(oauth.auth.stats.tokenRequests).toBe(1)
  })

  it('answers use_dpop_nonce with one replay carrying the nonce, keeps the token, then sends it at once', async () => {
    const oauth = dpopOAuth({ dpopNonce: true })
    const api = dpopClient(oauth)
    expect((await api.get('/echo/first')).status).toBe(200)
    expect(oauth.api.requests.map((r) => r.status)).toEqual([401, 200])
    expect((await api.get('/echo/second')).status).toBe(200)
    expect(oauth.api.stats.requests).toBe(3)
    expect(oauth.auth.stats.tokenRequests).toBe(1)
  })

  it('returns a second nonce demand, or a 401 after the nonce replay, as is: one replay in total', async () => {
    const oauth = dpopOAuth({ dpopNonce: true })
    oauth.api.failNext(3, {
      status: 401,
      headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'another-nonce' },
    })
    const again = await dpopClient(oauth).get('/echo/loop')
    expect(again.status).toBe(401)
    expect(again.headers['dpop-nonce']).toBe('another-nonce')
    expect(oauth.api.stats.requests).toBe(2)

    const fresh = dpopOAuth({ dpopNonce: true })
    fresh.api.failNext(1, { status: 401 })
    // without validateStatus: the AxiosError of the second 401
    const instance = axios.create({ baseURL: 'https://dpop-api.test' })
    oauth2Interceptor(instance, fresh.provider)
    const error = await instance.get('/echo/then-401').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AxiosError)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(fresh.api.requests.map((r) => r.status)).toEqual([401, 401])
    expect(fresh.auth.stats.tokenRequests).toBe(1)
  })

  it('follows a same-origin redirect with a new proof for its URL and method, keeping a 307 body', async () => {
    const oauth = dpopOAuth()
    const api = dpopClient(oauth)
    const moved = await api.post('/redirect', 'x', { params: { to: '/echo/landed?a=1', status: 303 } })
    expect(moved.data).toMatchObject({
      authorized: true,
      method: 'GET',
      path: '/echo/landed',
      query: { a: '1' },
    })
    const kept = await api.put('/redirect?to=/echo/put&status=307', 'body ✓')
    expect(kept.data).toMatchObject({
      authorized: true,
      method: 'PUT',
      bodyBase64: Buffer.from('body ✓').toString('base64'),
    })
    expect(oauth.api.requests.map((r) => r.status)).toEqual([303, 200, 307, 200])
    // maxRedirects: 0 from the caller still means: hand me the redirect
    const manual = await api.get('/redirect?to=/echo/x', { maxRedirects: 0 })
    expect(manual.status).toBe(302)
  })

  it('sends neither the token nor the proof to another origin after a redirect', async () => {
    const oauth = dpopOAuth()
    const seen: unknown[][] = []
    server.use(
      http.get('https://elsewhere.test/*', ({ request }) => {
        seen.push([request.headers.get('authorization'), request.headers.get('dpop')])
        return HttpResponse.json({ landed: true })
      }),
    )
    const response = await dpopClient(oauth).get('/redirect?to=https://elsewhere.test/x')
    expect(response.data).toEqual({ landed: true })
    expect(seen).toEqual([[null, null]])
  })
})
