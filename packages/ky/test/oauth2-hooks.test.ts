import { ConfigError, createTokenProvider } from '@tokenwell/core'
import { oauth2Hooks } from '@tokenwell/ky'
import { server } from '@tokenwell/mock-server/msw'
import ky, { TimeoutError } from 'ky'
import { delay, HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'

const tokenEndpoint = 'https://as.test/token'

function setup() {
  let hits = 0
  const seen: (string | null)[] = []
  server.use(
    http.post(tokenEndpoint, () =>
      HttpResponse.json({ access_token: `secret-t${++hits}`, token_type: 'Bearer', expires_in: 300 }),
    ),
    http.all('https://api.test/*', ({ request }) => {
      seen.push(request.headers.get('authorization'))
      return seen.length === 1 ? new HttpResponse('busy', { status: 503 }) : HttpResponse.json({ ok: true })
    }),
  )
  const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
  return { provider, seen, hits: () => hits }
}

describe('oauth2Hooks(): ky’s quirks', () => {
  it('ky runs beforeRequest again on its retry: the retry carries the same token, no token request', async () => {
    const { provider, seen, hits } = setup()
    const api = ky.create({
      prefixUrl: 'https://api.test',
      retry: { limit: 1, delay: () => 0 },
      ...oauth2Hooks(provider),
    })
    expect(await api.get('x').json()).toEqual({ ok: true })
    expect(seen).toEqual(['Bearer secret-t1', 'Bearer secret-t1'])
    expect(hits()).toBe(1)
  })

  it('an instance without prefixUrl needs a match: without one nothing is sent, with one the token goes there', async () => {
    const { provider, seen, hits } = setup()
    const bare = ky.create({ retry: 0, ...oauth2Hooks(provider) })
    const error = await bare.get('https://api.test/x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toMatch(/^match: /)
    expect([seen, hits()]).toEqual([[], 0])
    const scoped = ky.create({
      retry: { limit: 1, delay: () => 0 },
      ...oauth2Hooks(provider, { match: 'https://api.test' }),
    })
    expect(await scoped.get('https://api.test/x').json()).toEqual({ ok: true })
    expect(seen).toEqual(['Bearer secret-t1', 'Bearer secret-t1'])
  })

  it('the caller’s own Authorization (per request or on the instance) wins, on the retry too', async () => {
    const { provider, seen, hits } = setup()
    const api = ky.create({
      prefixUrl: 'https://api.test',
      retry: { limit: 1, delay: () => 0 },
      headers: { authorization: 'Basic mine' },
      ...oauth2Hooks(provider),
    })
    await api.get('x')
    expect(seen).toEqual(['Basic mine', 'Basic mine'])
    expect(hits()).toBe(0)
  })
})

describe('oauth2Hooks(): the replay lives in the fetch these hooks give ky', () => {
  function stale() {
    let hits = 0
    const seen: (string | null)[] = []
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json({ access_token: `secret-t${++hits}`, token_type: 'Bearer', expires_in: 300 }),
      ),
      http.all('https://api.test/*', async ({ request }) => {
        seen.push(`${request.headers.get('authorization')} ${await request.text()}`)
        return seen.length === 1 ? new HttpResponse(null, { status: 401 }) : HttpResponse.json({ ok: true })
      }),
    )
    const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
    return { provider, seen, hits: () => hits }
  }

  it('a fetch given to ky after the hooks is a ConfigError naming fetch: nothing is sent', async () => {
    const { provider, seen, hits } = stale()
    const api = ky.create({ prefixUrl: 'https://api.test', retry: 0, ...oauth2Hooks(provider), fetch })
    const error = await api.get('x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/^fetch: .*oauth2Hooks\(provider, \{ fetch \}\)/)
    expect(seen).toEqual([])
    expect(hits()).toBe(0)
  })

  it('the caller’s fetch in oauth2Hooks(provider, { fetch }) sends the request and its replay', async () => {
    const { provider, seen, hits } = stale()
    let sends = 0
    const counting: typeof fetch = (input, init) => {
      sends++
      return fetch(input, init)
    }
    const api = ky.create({ prefixUrl: 'https://api.test', ...oauth2Hooks(provider, { fetch: counting }) })
    expect(await api.post('x', { json: { n: 1 } }).json()).toEqual({ ok: true })
    expect(seen).toEqual(['Bearer secret-t1 {"n":1}', 'Bearer secret-t2 {"n":1}'])
    expect([sends, hits()]).toEqual([2, 2])
  })

  it('the caller’s afterResponse hooks see only the replay’s response', async () => {
    const { provider, seen } = stale()
    const statuses: number[] = []
    const api = ky.create({ prefixUrl: 'https://api.test', ...oauth2Hooks(provider) }).extend({
      hooks: { afterResponse: [(_request, _options, response) => void statuses.push(response.status)] },
    })
    expect(await api.get('x').json()).toEqual({ ok: true })
    expect(statuses).toEqual([200])
    expect(seen).toHaveLength(2)
  })

  it('ky’s timeout bounds the replay too: a slow replay is ky’s TimeoutError', async () => {
    let sends = 0
    server.use(
      http.post(tokenEndpoint, () => HttpResponse.json({ access_token: 'secret-t', token_type: 'Bearer' })),
      http.get('https://api.test/*', async () => {
        if (++sends === 1) return new HttpResponse(null, { status: 401 })
        await delay(1000)
        return HttpResponse.json({ ok: true })
      }),
    )
    const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
    const api = ky.create({ prefixUrl: 'https://api.test', retry: 0, timeout: 300, ...oauth2Hooks(provider) })
    await expect(api.get('x')).rejects.toBeInstanceOf(TimeoutError)
    expect(sends).toBe(2)
  })
})
