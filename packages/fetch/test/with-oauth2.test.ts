import { InsecureHttpError, TokenwellError } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { fakeOAuth } from '../../../test/support/msw-oauth.js'

describe('withOAuth2', () => {
  it('leaves a request that has its own Authorization alone', async () => {
    const oauth = fakeOAuth()
    const authFetch = withOAuth2(oauth.provider)
    await authFetch('https://api.test/mine', { headers: { Authorization: 'Basic dXNlcjpwdw==' } })
    await authFetch(new Request('https://api.test/mine', { headers: { authorization: 'Bearer own' } }))
    expect(oauth.seen.map((s) => s.authorization)).toEqual(['Basic dXNlcjpwdw==', 'Bearer own'])
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
