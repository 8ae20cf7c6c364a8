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

  it('sends a stream body once and returns the 401 rather than replay an empty body', async () => {
    const oauth = fakeOAuth()
    const error = await client(oauth)
      .instance.post('/always-401', Readable.from([Buffer.from('streamed')]))
      .catch((e: unknown) => e)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(oauth.sentTo('/always-401').map((s) => s.body)).toEqual(['streamed'])
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
})
