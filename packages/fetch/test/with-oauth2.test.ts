import { InsecureHttpError, TokenwellError } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { dpopOAuth, fakeOAuth } from '../../../test/support/msw-oauth.js'

describe('withOAuth2', () => {
  it('attaches the bearer token and fetches it once for many concurrent requests', async () => {
    const oauth = fakeOAuth({ tokenLatency: 20 })
    const authFetch = withOAuth2(oauth.provider)
    const responses = await Promise.all(
      Array.from({ length: 25 }, (_, i) => authFetch(`https://api.test/items/${i}`)),
    )
    expect(responses.every((r) => r instanceof Response && r.status === 200)).toBe(true)
    expect(oauth.tokenRequests()).toBe(1)
    expect(new Set(oauth.seen.map((s) => s.authorization))).toEqual(new Set(['Bearer t1']))
  })

  it('leaves a request that has its own Authorization alone', async () => {
    const oauth = fakeOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch('https://api.test/mine', { headers: { Authorization: 'Basic dXNlcjpwdw==' } })
    await authFetch(new Request('https://api.test/mine', { headers: { authorization: 'Bearer own' } }))
    expect(oauth.seen.map((s) => s.authorization)).toEqual(['Basic dXNlcjpwdw==', 'Bearer own'])
    expect(oauth.tokenRequests()).toBe(0)
  })

  it('sends no token to a URL that match does not accept', async () => {
    const oauth = fakeOAuth()
    server.use(
      http.get('https://storage.test/*', ({ request }) =>
        HttpResponse.text(request.headers.get('authorization')),
      ),
    )
    const authFetch = withOAuth2(oauth.provider, { match: 'https://api.test' })
    expect(await (await authFetch('https://storage.test/presigned?sig=1')).text()).toBe('')
    await authFetch('https://api.test/x')
    expect(oauth.seen[0]?.authorization).toBe('Bearer t1')
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
    const error = await withOAuth2(oauth.provider)('http://plain.test/x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InsecureHttpError)
    expect((error as InsecureHttpError).code).toBe('ERR_INSECURE_HTTP')
    expect((error as Error).message).toContain('allowInsecureHttp')
    expect(sent).toBe(0)
    expect(oauth.tokenRequests()).toBe(0)
    const allowed = await withOAuth2(oauth.provider, { allowInsecureHttp: true })('http://plain.test/x')
    expect(allowed.status).toBe(200)
    expect(sent).toBe(1)
  })

  it('after a 401 renews the token once and replays the request once', async () => {
    const oauth = fakeOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch('https://api.test/warm')
    oauth.revokeAll()
    const response = await authFetch('https://api.test/orders', { method: 'POST', body: '{"id":1}' })
    expect(response.status).toBe(200)
    expect(oauth.sentTo('/orders').map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2'])
    expect(oauth.tokenRequests()).toBe(2)
  })

  it('returns a second 401 to the caller unchanged, after exactly two sends', async () => {
    const oauth = fakeOAuth()
    const response = await withOAuth2(oauth.provider)('https://api.test/always-401')
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ error: 'invalid_token' })
    expect(oauth.sentTo('/always-401')).toHaveLength(2)
  })

  it('renews once for a storm of concurrent 401s carrying the same stale token', async () => {
    const oauth = fakeOAuth({ tokenLatency: 20 })
    const authFetch = withOAuth2(oauth.provider)
    await authFetch('https://api.test/warm')
    oauth.revokeAll()
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => authFetch(`https://api.test/storm/${i}`)),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200))
    expect(oauth.tokenRequests()).toBe(2)
    const sends = new Map<string, number>()
    for (const { path } of oauth.seen.slice(1)) sends.set(path, (sends.get(path) ?? 0) + 1)
    expect(Math.max(...sends.values())).toBe(2)
  })

  it('does not replay insufficient_scope', async () => {
    const oauth = fakeOAuth()
    const response = await withOAuth2(oauth.provider)('https://api.test/insufficient-scope')
    expect(response.status).toBe(401)
    expect(oauth.sentTo('/insufficient-scope')).toHaveLength(1)
    expect(oauth.tokenRequests()).toBe(1)
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
    [
      'JSON',
      () => ({ body: JSON.stringify({ a: [1, 'é'] }), headers: { 'content-type': 'application/json' } }),
    ],
    ['a string', () => ({ body: 'plain text ✓' })],
    ['URLSearchParams', () => ({ body: new URLSearchParams({ a: '1', b: 'x y' }) })],
    ['FormData', () => ({ body: form() })],
    ['a Blob', () => ({ body: new Blob([new Uint8Array([1, 2, 3, 0, 254])], { type: 'image/x-test' }) })],
    ['an ArrayBuffer', () => ({ body: new Uint8Array([9, 8, 7, 0]).buffer })],
  ])('replays %s body byte for byte', async (_, init) => {
    const oauth = fakeOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch('https://api.test/warm')
    oauth.revokeAll()
    const response = await authFetch('https://api.test/upload', { method: 'PUT', ...init() })
    expect(response.status).toBe(200)
    const [first, replay] = oauth.sentTo('/upload')
    expect(first?.body.length).toBeGreaterThan(0)
    expect(replay?.method).toBe('PUT')
    expect(replay?.body).toBe(first?.body)
    expect(replay?.contentType).toBe(first?.contentType)
  })

  it('replays a Request input with its body', async () => {
    const oauth = fakeOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch('https://api.test/warm')
    oauth.revokeAll()
    const response = await authFetch(
      new Request('https://api.test/req', { method: 'POST', body: 'from a Request' }),
    )
    expect(response.status).toBe(200)
    expect(oauth.sentTo('/req').map((s) => [s.authorization, s.body])).toEqual([
      ['Bearer t1', 'from a Request'],
      ['Bearer t2', 'from a Request'],
    ])
  })

  it('replays a bodiless Request input with its method and headers, and a URL input', async () => {
    const oauth = fakeOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch(new URL('https://api.test/warm'))
    oauth.revokeAll()
    const seen: (string | null)[] = []
    server.use(
      http.delete('https://api.test/gone', ({ request }) => {
        seen.push(request.headers.get('x-trace'))
        return request.headers.get('authorization') === 'Bearer t2'
          ? HttpResponse.json({ ok: true })
          : HttpResponse.json({}, { status: 401 })
      }),
    )
    const request = new Request('https://api.test/gone', { method: 'DELETE', headers: { 'x-trace': '7' } })
    expect((await authFetch(request)).status).toBe(200)
    expect(seen).toEqual(['7', '7'])
    expect(oauth.sentTo('/warm').map((s) => s.authorization)).toEqual(['Bearer t1'])
    expect(oauth.tokenRequests()).toBe(2)
  })

  it('reads an init that is not a plain object through its getters', async () => {
    const oauth = fakeOAuth()
    class Init {
      get method() {
        return 'POST'
      }
      get body() {
        return 'from a getter'
      }
    }
    await withOAuth2(oauth.provider)('https://api.test/init', new Init() as RequestInit)
    expect(oauth.sentTo('/init')).toMatchObject([
      { method: 'POST', body: 'from a getter', authorization: 'Bearer t1' },
    ])
  })

  it('sends a ReadableStream body once and returns the 401 rather than replay an empty body', async () => {
    const oauth = fakeOAuth()
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'))
        controller.close()
      },
    })
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit
    const response = await withOAuth2(oauth.provider)('https://api.test/always-401', init)
    expect(response.status).toBe(401)
    expect(oauth.sentTo('/always-401').map((s) => s.body)).toEqual(['streamed'])
  })

  it('passes the caller abort to its own wait only: the shared token request goes on', async () => {
    const oauth = fakeOAuth({ tokenLatency: 50 })
    const authFetch = withOAuth2(oauth.provider)
    const controller = new AbortController()
    const aborted = authFetch('https://api.test/a', { signal: controller.signal })
    const other = authFetch('https://api.test/b')
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    expect((await other).status).toBe(200)
    expect(oauth.tokenRequests()).toBe(1)
    expect(oauth.sentTo('/a')).toHaveLength(0)
  })

  it('uses the injected fetch with one Request', async () => {
    const oauth = fakeOAuth()
    const inner = vi.fn((request: Request) => globalThis.fetch(request))
    await withOAuth2(oauth.provider, { fetch: inner })('https://api.test/x', { headers: { 'x-trace': '1' } })
    expect(inner).toHaveBeenCalledTimes(1)
    const request = inner.mock.calls[0]![0]
    expect(request).toBeInstanceOf(Request)
    expect(request.headers.get('x-trace')).toBe('1')
  })

  it('gives the injected fetch one Request for the send and one for the replay, each with its token', async () => {
    const oauth = fakeOAuth()
    await withOAuth2(oauth.provider)('https://api.test/warm')
    oauth.revokeAll()
    const inner = vi.fn((request: Request) => globalThis.fetch(request))
    const response = await withOAuth2(oauth.provider, { fetch: inner })('https://api.test/p', {
      method: 'POST',
      body: 'again',
      headers: { 'x-trace': '1' },
    })
    expect(response.status).toBe(200)
    const requests = inner.mock.calls.map(([request]) => request)
    expect(requests.every((r) => r instanceof Request)).toBe(true)
    expect(requests.map((r) => [r.method, r.headers.get('authorization'), r.headers.get('x-trace')])).toEqual(
      [
        ['POST', 'Bearer t1', '1'],
        ['POST', 'Bearer t2', '1'],
      ],
    )
    expect(oauth.sentTo('/p').map((s) => s.body)).toEqual(['again', 'again'])
  })

  it('rejects with the token error when the token cannot be obtained, and sends nothing', async () => {
    const oauth = fakeOAuth()
    server.use(
      http.post('https://as.test/token', () =>
        HttpResponse.json({ error: 'invalid_client' }, { status: 401 }),
      ),
    )
    const error = await withOAuth2(oauth.provider)('https://api.test/x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenwellError)
    expect((error as TokenwellError).code).toBe('ERR_OAUTH')
    expect(oauth.seen).toHaveLength(0)
  })
})

describe('withOAuth2 with DPoP (RFC 9449)', () => {
  const api = 'https://dpop-api.test'
  const nonceAgain = {
    status: 401,
    headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'another-nonce' },
  }

  it('sends Authorization: DPoP with a proof per request that the API accepts; one token request', async () => {
    const oauth = dpopOAuth()
    const authFetch = withOAuth2(oauth.provider)
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => authFetch(`${api}/echo/${i}?q=1`, { method: 'POST', body: 'x' })),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(await responses[0]!.json()).toMatchObject({ authorized: true, method: 'POST', path: '/echo/0' })
    expect(oauth.api.requests.every((r) => r.authorization && r.dpop)).toBe(true)
    expect(oauth.api.stats.requests).toBe(20)
    expect(oauth.auth.stats.tokenRequests).toBe(1)
  })

  it('answers use_dpop_nonce with one replay carrying the nonce, keeps the token, then sends it at once', async () => {
    const oauth = dpopOAuth({ dpopNonce: true })
    const authFetch = withOAuth2(oauth.provider)
    expect((await authFetch(`${api}/echo/first`)).status).toBe(200)
    expect(oauth.api.requests.map((r) => r.status)).toEqual([401, 200])
    expect((await authFetch(`${api}/echo/second`)).status).toBe(200)
    expect(oauth.api.stats.requests).toBe(3)
    expect(oauth.auth.stats.tokenRequests).toBe(1)
  })

  it('returns a second nonce demand, or a 401 after the nonce replay, as is: one replay in total', async () => {
    const oauth = dpopOAuth({ dpopNonce: true })
    oauth.api.failNext(3, nonceAgain)
    const again = await withOAuth2(oauth.provider)(`${api}/echo/loop`)
    expect(again.status).toBe(401)
    expect(again.headers.get('dpop-nonce')).toBe('another-nonce')
    expect(oauth.api.stats.requests).toBe(2)

    const fresh = dpopOAuth({ dpopNonce: true })
    fresh.api.failNext(1, { status: 401 })
    expect((await withOAuth2(fresh.provider)(`${api}/echo/then-401`)).status).toBe(401)
    expect(fresh.api.requests.map((r) => r.status)).toEqual([401, 401])
    expect(fresh.auth.stats.tokenRequests).toBe(1)
  })

  it('renews a refused DPoP token once, with a new proof for the new token', async () => {
    const oauth = dpopOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch(`${api}/echo/warm`)
    oauth.auth.revokeAll()
    expect((await authFetch(`${api}/echo/after`, { method: 'PUT', body: 'keep me' })).status).toBe(200)
    expect(oauth.api.requests.slice(1).map((r) => r.status)).toEqual([401, 200])
    expect(oauth.auth.stats.tokenRequests).toBe(2)
  })

  it('follows a same-origin redirect with a new proof for its URL and method, keeping a 307 body', async () => {
    const oauth = dpopOAuth()
    const authFetch = withOAuth2(oauth.provider)
    const moved = await authFetch(`${api}/redirect?to=/echo/landed%3Fa%3D1`)
    expect(moved.status).toBe(200)
    expect(await moved.json()).toMatchObject({ authorized: true, path: '/echo/landed', query: { a: '1' } })
    const kept = await authFetch(`${api}/redirect?to=/echo/put&status=307`, { method: 'PUT', body: 'body ✓' })
    expect(await kept.json()).toMatchObject({
      authorized: true,
      method: 'PUT',
      bodyBase64: Buffer.from('body ✓').toString('base64'),
    })
    const seeOther = await authFetch(`${api}/redirect?to=/echo/got&status=303`, { method: 'POST', body: 'x' })
    expect(await seeOther.json()).toMatchObject({ authorized: true, method: 'GET', bodyBase64: '' })
    expect(oauth.api.requests.map((r) => r.status)).toEqual([302, 200, 307, 200, 303, 200])
  })

  it('sends neither the token nor the proof to another origin after a redirect', async () => {
    const oauth = dpopOAuth()
    const seen: (string | null)[][] = []
    server.use(
      http.get('https://elsewhere.test/*', ({ request }) => {
        seen.push([request.headers.get('authorization'), request.headers.get('dpop')])
        return HttpResponse.json({ landed: true })
      }),
    )
    const response = await withOAuth2(oauth.provider)(`${api}/redirect?to=https://elsewhere.test/x`)
    expect(await response.json()).toEqual({ landed: true })
    expect(seen).toEqual([[null, null]])
  })
})
