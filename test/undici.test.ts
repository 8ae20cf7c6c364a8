import { createHash } from 'node:crypto'
import { createServer, request as forward } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Duplex, Readable } from 'node:stream'
import { ConfigError, createTokenProvider } from '@tokenwell/core'
import { oauth2 } from '@tokenwell/undici'
import {
  Agent,
  Client,
  type Dispatcher,
  getGlobalDispatcher,
  interceptors,
  Pool,
  ProxyAgent,
  request,
  setGlobalDispatcher,
  WebSocket,
} from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { useServers } from './support/servers.js'

describe('@tokenwell/undici over loopback HTTP', () => {
  const servers = useServers()
  const agents: Agent[] = []
  const agent = () => {
    const made = new Agent()
    agents.push(made)
    return made
  }
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()))
  })
  const authorized = (...extra: Dispatcher.DispatchInterceptor[]) =>
    agent().compose(oauth2(servers.provider, { match: servers.api.url }), ...extra)
  async function get(dispatcher: Dispatcher, url: string, init: Partial<Dispatcher.RequestOptions> = {}) {
    const response = await request(url, { dispatcher, ...init } as never)
    const text = await response.body.text()
    return { status: response.statusCode, data: text ? JSON.parse(text) : undefined }
  }
  async function warmThenRevoke(dispatcher: Dispatcher) {
    expect((await get(dispatcher, `${servers.api.url}/echo/warm`)).status).toBe(200)
    servers.auth.revokeAll()
    servers.auth.stats.reset()
    servers.api.stats.reset()
  }

  it('needs match: a dispatcher has no base URL, so the token never goes everywhere by default', () => {
    const error = (() => {
      try {
        oauth2(servers.provider, {} as never)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining('match') })
  })

  it('authorizes only the matched origin', async () => {
    const dispatcher = authorized()
    expect((await get(dispatcher, `${servers.api.url}/echo/a`)).data).toMatchObject({ authorized: true })
    expect((await get(dispatcher, `${servers.other.url}/public/b`)).data).toMatchObject({ authorized: false })
    expect(servers.other.requests.map((r) => r.authorization)).toEqual([false])
    // another origin's failure reaches the caller as undici made it
    const refused = await get(dispatcher, 'http://127.0.0.1:1/closed').catch((error: unknown) => error)
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('authorizes Node’s global fetch and undici.request through the global dispatcher; token requests pass untouched', async () => {
    // the provider's default token fetch is globalThis.fetch, which uses this very dispatcher
    const previous = getGlobalDispatcher()
    const provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      // no Authorization header of its own on a token request, and its origin is inside match:
      // only the pass-through keeps it from waiting for its own token, or from carrying one
      clientAuth: 'client_secret_post',
      retry: false,
    })
    const authOrigin = new URL(servers.auth.tokenEndpoint).origin
    setGlobalDispatcher(agent().compose(oauth2(provider, { match: [servers.api.url, authOrigin] })))
    try {
      const viaFetch = await fetch(`${servers.api.url}/echo/global-fetch`)
      expect(await viaFetch.json()).toMatchObject({ authorized: true })
      const viaRequest = await request(`${servers.api.url}/echo/global-request`)
      expect(await viaRequest.body.json()).toMatchObject({ authorized: true })
      servers.auth.revokeAll()
      const replayed = await fetch(`${servers.api.url}/echo/global-replay`)
      expect(replayed.status).toBe(200)
      expect(servers.api.stats.byPath['/echo/global-replay']).toBe(2)
      expect(servers.auth.stats.tokenRequests).toBe(2)
      expect(servers.auth.requests.map((r) => [r.clientAuth, r.status])).toEqual([
        ['client_secret_post', 200],
        ['client_secret_post', 200],
      ])
    } finally {
      setGlobalDispatcher(previous)
      await provider.close()
    }
  })

  it.each([
    ['inside', (d: Dispatcher.DispatchInterceptor[]) => d],
    ['outside', (d: Dispatcher.DispatchInterceptor[]) => d.reverse()],
  ])(
    'with undici’s redirect interceptor composed %s: no token past another origin, never put back',
    async (_, order) => {
      // a second origin that sends every request back to the first one, recording what it got
      const back = `${servers.api.url}/public/back-home`
      const seen: (string | undefined)[] = []
      const bouncer = createServer((req, res) => {
        seen.push(req.headers.authorization)
        res.writeHead(302, { location: back }).end()
      })
      await new Promise<void>((resolve) => bouncer.listen(0, '127.0.0.1', resolve))
      const away = `http://127.0.0.1:${(bouncer.address() as AddressInfo).port}/bounce`
      try {
        const auth = oauth2(servers.provider, { match: servers.api.url })
        const dispatcher = agent().compose(order([auth, interceptors.redirect({ maxRedirections: 5 })]))
        const { data } = await get(dispatcher, `${servers.api.url}/redirect?to=${encodeURIComponent(away)}`)
        expect(data).toMatchObject({ path: '/public/back-home', authorized: false })
        expect(seen).toEqual([undefined])
        expect(servers.api.requests.map((r) => [r.path, r.authorization])).toEqual([
          ['/redirect', true],
          ['/public/back-home', false],
        ])
        const same = `${servers.api.url}/echo/same`
        const home = await get(dispatcher, `${servers.api.url}/redirect?to=${encodeURIComponent(same)}`)
        expect(home.data).toMatchObject({ path: '/echo/same', authorized: true })
      } finally {
        await new Promise((resolve) => bouncer.close(resolve))
      }
    },
  )

  it('composes with retry() and dns() in either order: a 401 still means one refresh and one replay', async () => {
    for (const chain of [
      [oauth2(servers.provider, { match: servers.api.url }), interceptors.retry(), interceptors.dns()],
      [interceptors.dns(), interceptors.retry(), oauth2(servers.provider, { match: servers.api.url })],
    ]) {
      const dispatcher = agent().compose(chain)
      await warmThenRevoke(dispatcher)
      const { status } = await get(dispatcher, `${servers.api.url}/echo/composed`)
      expect(status).toBe(200)
      expect(servers.api.stats.byPath['/echo/composed']).toBe(2)
      expect(servers.auth.stats.tokenRequests).toBe(1)
    }
  })

  it('a WebSocket through the dispatcher connects to the API with the token, and to another origin without it', async () => {
    // a loopback server that answers the handshake and sends one text frame
    const seen: (string | undefined)[] = []
    const upgraded: Duplex[] = []
    const ws = createServer()
    ws.on('upgrade', (req, socket) => {
      seen.push(req.headers.authorization)
      upgraded.push(socket)
      const key = `${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`
      const accept = createHash('sha1').update(key).digest('base64')
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      )
      socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])) // "hi"
    })
    await new Promise<void>((resolve) => ws.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(ws.address() as AddressInfo).port}`
    try {
      for (const match of [origin, servers.api.url]) {
        const socket = new WebSocket(origin.replace('http', 'ws'), {
          dispatcher: agent().compose(oauth2(servers.provider, { match })),
        })
        const message = await new Promise((resolve, reject) => {
          socket.onmessage = (event) => resolve(event.data)
          socket.onerror = reject
        })
        expect(message).toBe('hi')
        socket.close()
      }
      expect(seen).toEqual([expect.stringMatching(/^Bearer /), undefined])
    } finally {
      for (const socket of upgraded) socket.destroy()
      await new Promise((resolve) => ws.close(resolve))
    }
  })

  it.each([
    ['string', 'plain text ✓'],
    ['Buffer', Buffer.from([0, 1, 2, 255])],
    ['Uint8Array', new Uint8Array([9, 8, 7, 0, 128])],
  ])('replays a %s body byte-identical', async (_, body) => {
    const dispatcher = authorized()
    await warmThenRevoke(dispatcher)
    const { status, data } = await get(dispatcher, `${servers.api.url}/echo/upload`, { method: 'POST', body })
    expect(status).toBe(200)
    expect(Buffer.from(data.bodyBase64, 'base64').equals(Buffer.from(body))).toBe(true)
    expect(servers.api.stats.byPath['/echo/upload']).toBe(2)
  })

  it.each([
    ['stream', () => Readable.from([Buffer.from('streamed')])],
    [
      'async iterable',
      () =>
        (async function* () {
          yield Buffer.from('iterated')
        })(),
    ],
  ])('sends a %s body once and returns its 401', async (_, body) => {
    const dispatcher = authorized()
    await warmThenRevoke(dispatcher)
    const { status } = await get(dispatcher, `${servers.api.url}/echo/once`, {
      method: 'POST',
      body: body() as never,
    })
    expect(status).toBe(401)
    expect(servers.api.stats.byPath['/echo/once']).toBe(1)
  })

  it('an abort while the token is on its way rejects that request only; the shared token request goes on', async () => {
    servers.auth.setLatency(150)
    const dispatcher = authorized()
    const controller = new AbortController()
    const aborted = get(dispatcher, `${servers.api.url}/echo/aborted`, { signal: controller.signal }).catch(
      (e: unknown) => e,
    )
    const patient = get(dispatcher, `${servers.api.url}/echo/patient`)
    setTimeout(() => controller.abort(), 20)
    expect(await aborted).toMatchObject({ name: 'AbortError' })
    expect((await patient).status).toBe(200)
    expect(servers.api.stats.byPath['/echo/aborted']).toBeUndefined()
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('a Client or Pool bound to another origin than the request names gets no token: ConfigError, nothing sent there', async () => {
    // a loopback origin that records every request reaching it
    const seen: (string | undefined)[] = []
    const elsewhere = createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.end('{}')
    })
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`
    const bound = [new Pool(origin), new Client(origin)]
    try {
      for (const dispatcher of bound) {
        const composed = dispatcher.compose(oauth2(servers.provider, { match: servers.api.url }))
        // undici.request names the API's origin; a Pool or Client connects to its own all the same
        const refused = await get(composed, `${servers.api.url}/echo/bound`).catch((e: unknown) => e)
        expect(refused).toBeInstanceOf(ConfigError)
        expect((refused as Error).message).toContain(
          `connects this request to ${origin}, not to ${servers.api.url}`,
        )
      }
      expect(seen).toEqual([])
      // bound to the API's own origin, it authorizes as an Agent does; the other origin's own requests go as they are
      const apiPool = new Pool(servers.api.url)
      bound.push(apiPool)
      const authorized = apiPool.compose(oauth2(servers.provider, { match: servers.api.url }))
      expect((await get(authorized, `${servers.api.url}/echo/own-pool`)).data).toMatchObject({
        authorized: true,
      })
      expect((await get(agent(), `${origin}/plain`)).status).toBe(200)
      // the caller's own request with that very value, not sent by the interceptor, goes as it is
      const value = `Bearer ${servers.provider.peekToken()!.accessToken}`
      const own = await get(bound[0]!, `${origin}/own`, { headers: { authorization: value } })
      expect(own.status).toBe(200)
      expect(seen).toEqual([undefined, value])
      expect(servers.auth.stats.tokenRequests).toBe(1)
    } finally {
      await Promise.all(bound.map((d) => d.close()))
      await new Promise((resolve) => elsewhere.close(resolve))
    }
  })

  it('a Pool that queues the request (its connections limit) is checked when it creates it: ConfigError, nothing sent there', async () => {
    const seen: (string | undefined)[] = []
    const elsewhere = createServer((req, res) => {
      seen.push(req.headers.authorization)
      setTimeout(() => res.end('{}'), req.url === '/slow' ? 100 : 0) // holds the one connection
    })
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`
    const pool = new Pool(origin, { connections: 1 })
    const pools = [pool]
    try {
      const composed = pool.compose(oauth2(servers.provider, { match: servers.api.url }))
      await servers.provider.getToken() // the token is at hand: the request is dispatched at once, and queued
      const slow = get(composed, `${origin}/slow`) // not matched: no token, and the pool's connection is busy
      const queued = await Promise.all(
        [1, 2, 3].map((n) => get(composed, `${servers.api.url}/echo/queued-${n}`).catch((e: unknown) => e)),
      )
      expect((await slow).status).toBe(200)
      for (const refused of queued) {
        expect(refused).toBeInstanceOf(ConfigError)
        expect((refused as Error).message).toContain(
          `connects this request to ${origin}, not to ${servers.api.url}`,
        )
      }
      expect(seen).toEqual([undefined])
      // queued in a Pool of the API's own origin, each goes with the token
      const apiPool = new Pool(servers.api.url, { connections: 1 })
      pools.push(apiPool)
      const authorized = apiPool.compose(oauth2(servers.provider, { match: servers.api.url }))
      const answers = await Promise.all(
        [1, 2, 3].map((n) => get(authorized, `${servers.api.url}/echo/own-queued-${n}`)),
      )
      expect(answers.map((a) => a.data)).toMatchObject([1, 2, 3].map(() => ({ authorized: true })))
    } finally {
      await Promise.all(pools.map((p) => p.close()))
      await new Promise((resolve) => elsewhere.close(resolve))
    }
  })

  it('connecting elsewhere on the API’s behalf is no refusal: dns() to an address, a forward proxy given the whole URL', async () => {
    const { port } = new URL(servers.api.url)
    const named = `http://localhost:${port}` // dns() connects to 127.0.0.1 with Host: localhost:port
    const viaDns = agent().compose(interceptors.dns(), oauth2(servers.provider, { match: named }))
    const dns = await get(viaDns, `${named}/echo/dns`)
    expect(dns.data).toMatchObject({ authorized: true })
    // a forward proxy for plain http: sent `GET http://api/... HTTP/1.1` on its own connection
    const forwarded: string[] = []
    const proxy = createServer((req, res) => {
      forwarded.push(req.url!)
      const upstream = forward(req.url!, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers)
        answer.pipe(res)
      })
      req.pipe(upstream)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const through = new ProxyAgent({
      uri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      proxyTunnel: false,
    })
    try {
      const dispatcher = through.compose(oauth2(servers.provider, { match: servers.api.url }))
      expect((await get(dispatcher, `${servers.api.url}/echo/proxied`)).data).toMatchObject({
        authorized: true,
      })
      expect(forwarded).toEqual([`${servers.api.url}/echo/proxied`])
    } finally {
      await through.close()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })
})
