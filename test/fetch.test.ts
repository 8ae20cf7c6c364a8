import { ConfigError } from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'
import { withOAuth2 } from '@tokenwell/fetch'
import { Client, getGlobalDispatcher, Pool, setGlobalDispatcher } from 'undici'
import { describe, expect, it } from 'vitest'
import { fixedTokenProvider, refusal, startRecorder } from './support/recorder.js'
import { useServers } from './support/servers.js'

describe('@tokenwell/fetch over loopback HTTP', () => {
  const servers = useServers()
  const decode = async (response: Response) => {
    const body = (await response.json()) as { bodyBase64: string }
    return Buffer.from(body.bodyBase64, 'base64').toString()
  }

  it('returns a real Response, the second 401 with its body', async () => {
    const response = await withOAuth2(servers.provider)(`${servers.api.url}/always-401`)
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('invalid_token')
    expect(await response.json()).toMatchObject({ error: 'invalid_token' })
    expect(servers.api.stats.byPath['/always-401']).toBe(2)
  })

  it('replays a Request input with its body', async () => {
    const authFetch = withOAuth2(servers.provider)
    await authFetch(`${servers.api.url}/echo/warm`)
    servers.auth.revokeAll()
    const request = new Request(`${servers.api.url}/echo/request`, {
      method: 'POST',
      body: 'inside a Request',
    })
    const response = await authFetch(request)
    expect(response.status).toBe(200)
    expect(await decode(response)).toBe('inside a Request')
    expect(servers.api.stats.byPath['/echo/request']).toBe(2)
  })

  it('an init.dispatcher bound to another origin (undici Client, Pool) gets no token: fetch fails, nothing sent there', async () => {
    const elsewhere = await startRecorder()
    const bound = [new Pool(elsewhere.url), new Client(elsewhere.url), new Pool(elsewhere.url)]
    const providers = [servers.provider, fixedTokenProvider('tok-SECRET', { dpop: createDpop() })]
    const url = `${servers.api.url}/echo/bound`
    const form = () => Object.assign(new FormData(), { name: 'ada' }) // FormData: sent as a Request
    try {
      for (const provider of providers) {
        const authFetch = withOAuth2(provider, { match: servers.api.url })
        const calls = [
          (dispatcher: unknown) => authFetch(url, { dispatcher } as RequestInit),
          (dispatcher: unknown) =>
            authFetch(new URL(url), { method: 'POST', body: form(), dispatcher } as RequestInit),
          (dispatcher: unknown) => authFetch(new Request(url), { dispatcher } as RequestInit),
        ]
        for (const [i, call] of calls.entries()) {
          const refused = await call(bound[i]).catch((e: unknown) => e)
          expect(refused).toBeInstanceOf(TypeError) // as fetch fails
          expect((refused as Error).cause).toBeInstanceOf(ConfigError)
          expect(String((refused as Error).cause)).toContain(`connects this request to ${elsewhere.url}`)
        }
      }
      expect(elsewhere.requests).toEqual([])
      // bound to the API's own origin, it is authorized; the other origin's own requests go as they are
      const own = new Pool(servers.api.url)
      bound.push(own)
      const authFetch = withOAuth2(servers.provider, { match: servers.api.url })
      const answer = await authFetch(`${servers.api.url}/echo/own-pool`, { dispatcher: own } as RequestInit)
      expect(await answer.json()).toMatchObject({ authorized: true })
      expect(
        (await authFetch(`${elsewhere.url}/plain`, { dispatcher: bound[0] } as RequestInit)).status,
      ).toBe(200)
      expect(elsewhere.requests.map((r) => r.authorization)).toEqual([undefined])
    } finally {
      await Promise.all(bound.map((d) => d.close()))
      await elsewhere.close()
    }
  })

  it('a Request with a dispatcher of its own, or a global dispatcher, bound to another origin gets no token', async () => {
    const elsewhere = await startRecorder()
    const pool = new Pool(elsewhere.url)
    const previous = getGlobalDispatcher()
    const url = `${servers.api.url}/echo/hidden`
    try {
      for (const provider of [
        fixedTokenProvider(),
        fixedTokenProvider('tok-SECRET', { dpop: createDpop() }),
      ]) {
        const authFetch = withOAuth2(provider, { match: servers.api.url })
        // the Request's own dispatcher, which a Request made from it keeps (undici)
        const own = new Request(url, { dispatcher: pool } as RequestInit)
        expect(await refusal(authFetch(own))).toContain(`connects this request to ${elsewhere.url}`)
        expect(await refusal(authFetch(new Request(own, { method: 'POST', body: 'b' })))).toContain(
          elsewhere.url,
        )
        // the process's global dispatcher, bound to another origin
        setGlobalDispatcher(pool)
        const calls = [authFetch(url), authFetch(new URL(url), { method: 'PUT', body: 'b' }), authFetch(url)]
        expect(await Promise.all(calls.map(refusal))).toEqual(
          Array(3).fill(expect.stringContaining(elsewhere.url)),
        )
        setGlobalDispatcher(previous)
      }
      expect(elsewhere.requests).toEqual([])
      // the caller's own request with that token to another path of the other origin meanwhile goes
      setGlobalDispatcher(pool)
      const authFetch = withOAuth2(fixedTokenProvider(), { match: servers.api.url })
      const [ours, theirs] = await Promise.all([
        refusal(authFetch(url)),
        fetch(`${elsewhere.url}/own`, { headers: { authorization: 'Bearer tok-SECRET' } }).then(
          (r) => r.status,
        ),
      ])
      expect([typeof ours, theirs]).toEqual(['string', 200])
      expect(elsewhere.requests.map((r) => r.path)).toEqual(['/own'])
    } finally {
      setGlobalDispatcher(previous)
      await pool.close()
      await elsewhere.close()
    }
  })

  it('sends a ReadableStream body once and returns the 401 instead of an empty replay', async () => {
    const authFetch = withOAuth2(servers.provider)
    await authFetch(`${servers.api.url}/echo/warm`)
    servers.auth.revokeAll()
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'))
        controller.close()
      },
    })
    const init = { method: 'POST', body, duplex: 'half' } as RequestInit
    const response = await authFetch(`${servers.api.url}/echo/stream`, init)
    expect(response.status).toBe(401)
    expect(servers.api.stats.byPath['/echo/stream']).toBe(1)
  })

  it('an abort while the token is on its way rejects like fetch; the shared token request goes on', async () => {
    servers.auth.setLatency(150)
    const authFetch = withOAuth2(servers.provider)
    const controller = new AbortController()
    const aborted = authFetch(`${servers.api.url}/echo/aborted`, { signal: controller.signal }).catch(
      (e: unknown) => e,
    )
    const patient = authFetch(`${servers.api.url}/echo/patient`)
    setTimeout(() => controller.abort(), 20)
    expect(await aborted).toMatchObject({ name: 'AbortError' })
    expect((await patient).status).toBe(200)
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.byPath['/echo/aborted']).toBeUndefined()
  })

  it('a caller timeout signal bounds the whole call', async () => {
    const authFetch = withOAuth2(servers.provider)
    const error = await authFetch(`${servers.api.url}/slow?ms=2000`, {
      signal: AbortSignal.timeout(50),
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'TimeoutError' })
  })
})
