import { ConfigError } from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'
import { oauth2Hooks } from '@tokenwell/ky'
import ky, { HTTPError } from 'ky'
import { getGlobalDispatcher, Pool, setGlobalDispatcher } from 'undici'
import { describe, expect, it } from 'vitest'
import { fixedTokenProvider, refusal, startRecorder } from './support/recorder.js'
import { useServers } from './support/servers.js'

describe('@tokenwell/ky over loopback HTTP', () => {
  const servers = useServers()
  const client = (extra: Parameters<typeof ky.create>[0] = {}) =>
    ky.create({ prefixUrl: servers.api.url, ...oauth2Hooks(servers.provider), ...extra })
  async function warmThenRevoke(api: ReturnType<typeof client>) {
    await api.get('echo/warm')
    servers.auth.revokeAll()
    servers.auth.stats.reset()
    servers.api.stats.reset()
  }

  it('authorizes the prefixUrl origin (a request with prefixUrl: "" falls back to the first one seen); a second 401 is ky’s HTTPError', async () => {
    const api = client()
    expect(await api.get('echo/a').json()).toMatchObject({ authorized: true })
    // a request with prefixUrl: '' falls back to the first prefixUrl these hooks saw; a match is surer
    await api.get(`${servers.other.url}/public/b`, { prefixUrl: '' })
    const scoped = client({ ...oauth2Hooks(servers.provider, { match: servers.api.url }) })
    await scoped.get(`${servers.other.url}/public/c`, { prefixUrl: '' })
    expect(servers.other.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/public/b', false],
      ['/public/c', false],
    ])
    const error = await api.get('always-401').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HTTPError)
    expect((error as HTTPError).response.status).toBe(401)
    expect(servers.api.stats.byPath['/always-401']).toBe(2)
  })

  it('ky’s retries still work and carry the request’s current token, never a new one', async () => {
    const api = client({ retry: { limit: 2, delay: () => 0 } })
    await warmThenRevoke(api)
    // the replay's answer is a 503 twice, then the echo: ky retries, each time with the renewed token
    const tokens: (string | null)[] = []
    const seen = api.extend({
      hooks: { beforeRequest: [(request) => void tokens.push(request.headers.get('authorization'))] },
    })
    let calls = 0
    const flaky = seen.extend({
      hooks: {
        afterResponse: [
          (_request, _options, response) =>
            response.status === 200 && ++calls <= 2 ? new Response('busy', { status: 503 }) : undefined,
        ],
      },
    })
    const data = await flaky.get('echo/retried').json()
    expect(data).toMatchObject({ authorized: true })
    // first send (stale token) → 401 → replay (renewed) → 503 → retry → 503 → retry → 200
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.byPath['/echo/retried']).toBe(4)
    expect(tokens).toHaveLength(3)
    expect(tokens[1]).toBe(tokens[2])
    expect(tokens[1]).not.toBe(tokens[0])
  })

  it('a later hook’s new Request to another path on the API: the token goes, and its 401 is renewed and replayed once', async () => {
    const api = client().extend({
      hooks: { beforeRequest: [(request) => new Request(`${servers.api.url}/echo/moved`, request)] },
    })
    await warmThenRevoke(api)
    expect(await api.get('echo/start').json()).toMatchObject({ path: '/echo/moved', authorized: true })
    expect(servers.api.stats.byPath['/echo/moved']).toBe(2) // the 401, then the replay
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('a dispatcher option bound to another origin (an undici Pool, Node) gets no token: fetch fails, nothing sent there', async () => {
    const elsewhere = await startRecorder()
    const pools = [new Pool(elsewhere.url), new Pool(servers.api.url)]
    const providers = [servers.provider, fixedTokenProvider('tok-SECRET', { dpop: createDpop() })]
    try {
      for (const provider of providers) {
        const api = ky.create({ prefixUrl: servers.api.url, retry: 0, ...oauth2Hooks(provider) })
        // ky hands options it does not know (undici's `dispatcher`) to fetch
        const refused = await api
          .get('echo/bound', { dispatcher: pools[0] } as never)
          .catch((e: unknown) => e)
        expect(refused).toBeInstanceOf(TypeError) // as fetch fails
        expect(String((refused as Error).cause)).toContain(`connects this request to ${elsewhere.url}`)
        expect((refused as Error).cause).toBeInstanceOf(ConfigError)
      }
      expect(elsewhere.requests).toEqual([])
      const own = await client()
        .get('echo/own-pool', { dispatcher: pools[1] } as never)
        .json()
      expect(own).toMatchObject({ authorized: true })
    } finally {
      await Promise.all(pools.map((p) => p.close()))
      await elsewhere.close()
    }
  })

  it('a Request with a dispatcher of its own, or a global dispatcher, bound to another origin gets no token', async () => {
    const elsewhere = await startRecorder()
    const pool = new Pool(elsewhere.url)
    const previous = getGlobalDispatcher()
    const match = servers.api.url
    try {
      for (const provider of [
        fixedTokenProvider(),
        fixedTokenProvider('tok-SECRET', { dpop: createDpop() }),
      ]) {
        const api = ky.create({ prefixUrl: servers.api.url, retry: 0, ...oauth2Hooks(provider, { match }) })
        const own = new Request(`${servers.api.url}/echo/hidden`, { dispatcher: pool } as RequestInit)
        expect(await refusal(api(own, { prefixUrl: '' }))).toContain(
          `connects this request to ${elsewhere.url}`,
        )
        setGlobalDispatcher(pool)
        const calls = [api.get('echo/global'), api.post('echo/global', { body: 'b' })]
        expect(await Promise.all(calls.map(refusal))).toEqual(
          Array(2).fill(expect.stringContaining(elsewhere.url)),
        )
        setGlobalDispatcher(previous)
      }
      expect(elsewhere.requests).toEqual([])
    } finally {
      setGlobalDispatcher(previous)
      await pool.close()
      await elsewhere.close()
    }
  })

  it('replays a string body byte-identical and sends a ReadableStream once, returning its 401', async () => {
    const api = client({ throwHttpErrors: false })
    await warmThenRevoke(api)
    const replayed = await api.post('echo/upload', { body: 'plain ✓' }).json<{ bodyBase64: string }>()
    expect(Buffer.from(replayed.bodyBase64, 'base64').toString()).toBe('plain ✓')
    expect(servers.api.stats.byPath['/echo/upload']).toBe(2)
    servers.auth.revokeAll()
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'))
        controller.close()
      },
    })
    const once = await api.post('echo/stream', { body })
    expect(once.status).toBe(401)
    expect(servers.api.stats.byPath['/echo/stream']).toBe(1)
  })

  it('an abort while the token is on its way rejects that request only', async () => {
    servers.auth.setLatency(150)
    const api = client()
    const controller = new AbortController()
    const aborted = api.get('echo/aborted', { signal: controller.signal }).catch((e: unknown) => e)
    const patient = api.get('echo/patient').json()
    setTimeout(() => controller.abort(), 20)
    expect(await aborted).toMatchObject({ name: 'AbortError' })
    expect(await patient).toMatchObject({ authorized: true })
    expect(servers.api.stats.byPath['/echo/aborted']).toBeUndefined()
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })
})
