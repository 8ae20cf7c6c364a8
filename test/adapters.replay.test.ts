import { createServer, Agent as HttpAgent, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { oauth2Interceptor } from '@tokenwell/axios'
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import { oauth2Hooks as kyHooks } from '@tokenwell/ky'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { oauth2 } from '@tokenwell/undici'
import axios from 'axios'
import got from 'got'
import ky from 'ky'
import { interceptors, Agent as UndiciAgent, request as undiciRequest } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { harnesses } from './support/adapters.js'
import { useServers } from './support/servers.js'

// The one replay after a 401, as the server sees it, for every adapter: what the two sends carried
// (method, URL, headers but Authorization/DPoP, body bytes), when there is none (the caller's own
// credentials, a stream, an abort, a chain that left the origin), and the token requests it cost.
// The API here is a recording server scripted per path; tokens come from the mock authorization server.

/** One request as the API received it. */
interface Seen {
  method: string
  url: string
  headers: [string, string][]
  authorization: string | undefined
  body: Buffer
}

let auth: RunningMockAuthServer
let otherHits = 0
const other = createServer((req, res) => {
  otherHits++
  req.resume()
  const url = new URL(req.url ?? '/', 'http://x')
  const to = url.searchParams.get('to')
  if (to) return void res.writeHead(302, { location: to }).end()
  res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end('{}')
})
let otherBase = ''
let base = ''
const seen: Seen[] = []
/** Per path, the answers to give first, in order (a status and a `WWW-Authenticate`); then 200. */
const script = new Map<string, { status: number; www?: string | undefined }[]>()

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Sends to `/early` so far: the first is answered 401 before its body is read. */
let early = 0
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/early' && early++ === 0) {
    // answers before the body is read: the client is still sending it
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' })
    res.end('{"error":"invalid_token"}')
    req.resume()
    return
  }
  if (url.pathname === '/away') {
    const to = url.searchParams.get('to')!
    res.writeHead(302, { location: to }).end()
    req.resume()
    return
  }
  const body = await read(req)
  if (url.pathname === '/back' && req.headers.authorization === undefined) {
    // RFC 6750 §3.1: a request without credentials gets a challenge without an error code
    seen.push({ method: req.method!, url: req.url!, headers: [], authorization: undefined, body })
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="api"' }).end('{}')
    return
  }
  const headers: [string, string][] = []
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
  seen.push({ method: req.method!, url: req.url!, headers, authorization: req.headers.authorization, body })
  const queue = script.get(url.pathname)
  const next = queue?.shift()
  if (next) {
    res.writeHead(next.status, next.www === undefined ? {} : { 'www-authenticate': next.www })
    res.end(req.method === 'HEAD' ? undefined : '{"error":"x"}')
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(req.method === 'HEAD' ? undefined : '{"ok":true}')
})

beforeAll(async () => {
  auth = await startMockAuthServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  await new Promise<void>((r) => other.listen(0, 'localhost', r))
  otherBase = `http://localhost:${(other.address() as AddressInfo).port}`
})
afterAll(async () => {
  await auth.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  other.closeAllConnections()
  await new Promise((r) => other.close(r))
})

let provider: TokenProvider
beforeEach(() => {
  early = 0
  otherHits = 0
  seen.length = 0
  script.clear()
  auth.stats.reset()
  provider = createTokenProvider({
    tokenEndpoint: auth.tokenEndpoint,
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    retry: false,
    failureCooldown: 0,
  })
})
afterEach(() => provider.close())

type Spec = { method: string; path: string; headers?: Record<string, string>; body?: unknown; kind?: string }
type Sender = (spec: Spec) => Promise<number>

const senders: Record<string, () => Sender> = {
  axios: () => {
    const i = axios.create({ baseURL: base, validateStatus: () => true, httpAgent: new HttpAgent() })
    oauth2Interceptor(i, provider)
    return async (s) =>
      (
        await i.request({
          method: s.method,
          url: s.path,
          data: s.body,
          ...(s.headers && { headers: s.headers }),
        })
      ).status
  },
  got: () => {
    const g = got.extend(oauth2Hooks(provider), {
      prefixUrl: base,
      throwHttpErrors: false,
      retry: { limit: 0 },
    })
    return async (s) => {
      const o =
        s.kind === 'json'
          ? { json: s.body }
          : s.kind === 'form'
            ? { form: s.body }
            : s.body !== undefined
              ? { body: s.body }
              : {}
      return (
        await g(s.path.slice(1), {
          method: s.method as 'GET',
          ...(o as object),
          ...(s.headers && { headers: s.headers }),
        })
      ).statusCode
    }
  },
  fetch: () => {
    const f = withOAuth2(provider, { match: base })
    return async (s) => {
      const r = await f(base + s.path, {
        method: s.method,
        ...(s.body !== undefined && { body: s.body as BodyInit }),
        ...(s.headers && { headers: s.headers }),
      })
      await r.arrayBuffer()
      return r.status
    }
  },
  undici: () => {
    const d = new UndiciAgent().compose(
      oauth2(provider, { match: base }),
      interceptors.redirect({ maxRedirections: 5 }),
    )
    return async (s) => {
      const r = await undiciRequest(base + s.path, {
        dispatcher: d,
        method: s.method as 'GET',
        ...(s.body !== undefined && { body: s.body as string }),
        ...(s.headers && { headers: s.headers }),
      })
      await r.body.dump()
      return r.statusCode
    }
  },
  ky: () => {
    const k = ky.create({ prefixUrl: base, throwHttpErrors: false, retry: 0, ...kyHooks(provider) })
    return async (s) => {
      const r = await k(s.path.slice(1), {
        method: s.method,
        ...(s.kind === 'json' ? { json: s.body } : s.body !== undefined && { body: s.body as BodyInit }),
        ...(s.headers && { headers: s.headers }),
      })
      await r.arrayBuffer()
      return r.status
    }
  },
}

const strip = (h: [string, string][]) => h.filter(([n]) => !/^(authorization|dpop)$/i.test(n))

describe.each(Object.keys(senders))('%s adapter: the replay after a 401', (name) => {
  let send: Sender
  beforeEach(() => {
    send = senders[name]!()
  })
  it('a 401 with a Basic challenge is renewed and replayed once', async () => {
    script.set('/p', [{ status: 401, www: 'Basic realm="x"' }])
    expect(await send({ method: 'GET', path: '/p' })).toBe(200)
    expect(seen.length).toBe(2)
    expect(auth.stats.tokenRequests).toBe(2)
  })
  it.each(['HEAD', 'OPTIONS', 'DELETE'])('a 401 on %s is replayed with the same headers', async (method) => {
    script.set('/m', [{ status: 401, www: 'Bearer error="invalid_token"' }])
    const status = await send({ method, path: '/m' })
    expect(status).toBe(200)
    expect(seen.map((s) => s.method)).toEqual([method, method])
    expect(strip(seen[1]!.headers)).toEqual(strip(seen[0]!.headers))
    expect(auth.stats.tokenRequests).toBe(2)
  })
  it("a 401 to the caller's own Authorization: 1 send, no token request", async () => {
    script.set('/own', [{ status: 401, www: 'Bearer error="invalid_token"' }])
    const status = await send({ method: 'GET', path: '/own', headers: { authorization: 'Bearer mine' } })
    expect(status).toBe(401)
    expect(seen.length).toBe(1)
    expect(auth.stats.tokenRequests).toBe(0)
  })
  const bodies: [string, () => Spec][] = [
    ['Buffer', () => ({ method: 'POST', path: '/b', body: Buffer.from([0, 1, 2, 255]) })],
    [
      'charset string',
      () => ({
        method: 'PUT',
        path: '/b',
        body: 'héllo ✓',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }),
    ],
    ['empty CL0', () => ({ method: 'POST', path: '/b', body: '', headers: { 'content-length': '0' } })],
    ['URLSearchParams', () => ({ method: 'POST', path: '/b', body: new URLSearchParams({ a: 'é b' }) })],
    [
      'json',
      () => ({
        method: 'PATCH',
        path: '/b',
        kind: 'json',
        body:
          name === 'axios' || name === 'got' || name === 'ky'
            ? { a: [1, 'é'] }
            : JSON.stringify({ a: [1, 'é'] }),
        headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
      }),
    ],
    [
      'FormData',
      () => {
        const f = new FormData()
        f.set('n', 'v')
        f.set('file', new Blob([new Uint8Array([0, 13, 10, 255])], { type: 'image/png' }), 'a.png')
        return { method: 'POST', path: '/b', body: f }
      },
    ],
  ]
  // undici.request takes neither FormData nor URLSearchParams (the contract sends them encoded); got takes `form`
  const skip = (kind: string) =>
    (name === 'undici' && (kind === 'FormData' || kind === 'URLSearchParams')) ||
    (name === 'got' && kind === 'URLSearchParams')
  it.each(bodies.filter(([kind]) => !skip(kind)))(
    'replays a %s body byte-identical, headers too',
    async (_kind, make) => {
      script.set('/b', [{ status: 401, www: 'Bearer error="invalid_token"' }])
      const status = await send(make())
      expect(status).toBe(200)
      expect(seen.length).toBe(2)
      const [a, b] = seen as [Seen, Seen]
      expect(b.method).toBe(a.method)
      expect(b.url).toBe(a.url)
      expect(b.body.equals(a.body)).toBe(true)
      expect(strip(b.headers)).toEqual(strip(a.headers))
      expect(b.authorization).not.toBe(a.authorization)
    },
  )
})

it("axios: the replay sends the body axios sent, not its transformRequest's output transformed again", async () => {
  const instance = axios.create({
    baseURL: base,
    transformRequest: [(data) => ({ envelope: data }), ...[axios.defaults.transformRequest ?? []].flat()],
  })
  oauth2Interceptor(instance, provider)
  script.set('/t', [{ status: 401, www: 'Bearer error="invalid_token"' }])
  expect((await instance.post('/t', { a: 1 })).status).toBe(200)
  expect(seen.map((s) => s.body.toString())).toEqual(['{"envelope":{"a":1}}', '{"envelope":{"a":1}}'])
  expect(strip(seen[1]!.headers)).toEqual(strip(seen[0]!.headers))
})

describe.each(Object.keys(senders))('%s adapter: no replay, or one that is still right', (name) => {
  let send: Sender
  beforeEach(() => {
    send = senders[name]!()
  })
  it('a 401 from another origin a redirect led to: no renewal, no replay', async () => {
    const status = await send({ method: 'GET', path: `/away?to=${encodeURIComponent(`${otherBase}/x`)}` })
    expect(status).toBe(401)
    expect(otherHits).toBe(1)
    expect(auth.stats.tokenRequests).toBe(1)
  })
  it('a chain A → B → A ending in a 401 on A, sent without a token: no renewal, no replay', async () => {
    const back = encodeURIComponent(`${base}/back`)
    const status = await send({
      method: 'GET',
      path: `/away?to=${encodeURIComponent(`${otherBase}/b?to=${back}`)}`,
    })
    expect(status).toBe(401)
    expect(seen.filter((s) => s.url === '/back').map((s) => s.authorization)).toEqual([undefined])
    expect(auth.stats.tokenRequests).toBe(1)
  })
  it('a chain A → A (a redirect before the token check) ending in 401 invalid_token: renewed, replayed', async () => {
    script.set('/stale', [{ status: 401, www: 'Bearer error="invalid_token"' }])
    const status = await send({ method: 'GET', path: `/away?to=${encodeURIComponent(`${base}/stale`)}` })
    expect(status).toBe(200)
    expect(seen.filter((s) => s.url === '/stale').length).toBe(2)
    expect(auth.stats.tokenRequests).toBe(2)
  })
  it('a 401 answered while the 4 MB body is still being sent: one replay, same bytes', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 7)
    const status = await send({ method: 'POST', path: '/early', body: big }).catch((e) => String(e))
    expect(status).toBe(200)
    expect(seen.map((s) => s.body.length)).toEqual([big.length])
    expect(auth.stats.tokenRequests).toBe(2)
  })
  it('a stream body is not replayed', async () => {
    script.set('/s', [{ status: 401, www: 'Bearer error="invalid_token"' }])
    const { Readable } = await import('node:stream')
    const body =
      name === 'fetch' || name === 'ky'
        ? new ReadableStream({
            start(c) {
              c.enqueue(new Uint8Array([1, 2]))
              c.close()
            },
          })
        : Readable.from([Buffer.from([1, 2])])
    const spec = { method: 'POST', path: '/s', body, headers: { 'content-type': 'application/octet-stream' } }
    const status = await (name === 'fetch'
      ? withOAuth2(provider, { match: base })(base + '/s', {
          method: 'POST',
          body,
          duplex: 'half',
        } as RequestInit).then((r) => r.status)
      : send(spec))
    expect(status).toBe(401)
    expect(seen.length).toBe(1)
  })
  it('a caller that aborts while the renewal is in flight gets no replay', async () => {
    await send({ method: 'GET', path: '/warm' })
    seen.length = 0
    auth.setLatency(300)
    script.set('/ab', [{ status: 401, www: 'Bearer error="invalid_token"' }])
    const controller = new AbortController()
    const sent = sendAbortable(name, '/ab', controller.signal)
    const started = Date.now()
    while (seen.length === 0 && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 50))
    controller.abort()
    const outcome = await sent.then(String, (e) => `error ${e?.name}`)
    await new Promise((r) => setTimeout(r, 400))
    auth.setLatency(0)
    expect(seen.length).toBe(1)
    expect(outcome).toMatch(/error|401/)
  })
})

// undici's redirect interceptor composed inside oauth2() follows the hops itself: its handler tells them
it('undici, redirect interceptor inside oauth2(): a chain A → B → A ending in a 401 on A: no renewal, no replay', async () => {
  const d = new UndiciAgent().compose(
    interceptors.redirect({ maxRedirections: 5 }),
    oauth2(provider, { match: base }),
  )
  const back = encodeURIComponent(`${base}/back`)
  const r = await undiciRequest(`${base}/away?to=${encodeURIComponent(`${otherBase}/b?to=${back}`)}`, {
    dispatcher: d,
  })
  await r.body.dump()
  expect(r.statusCode).toBe(401)
  expect(seen.filter((s) => s.url === '/back').map((s) => s.authorization)).toEqual([undefined])
  expect(auth.stats.tokenRequests).toBe(1)
})

function sendAbortable(name: string, path: string, signal: AbortSignal): Promise<number> {
  if (name === 'axios') {
    const i = axios.create({ baseURL: base, validateStatus: () => true })
    oauth2Interceptor(i, provider)
    return i.get(path, { signal }).then((r) => r.status)
  }
  if (name === 'got') {
    const g = got.extend(oauth2Hooks(provider), {
      prefixUrl: base,
      throwHttpErrors: false,
      retry: { limit: 0 },
    })
    return g(path.slice(1), { signal }).then((r) => r.statusCode)
  }
  if (name === 'fetch')
    return withOAuth2(provider, { match: base })(base + path, { signal }).then((r) => r.status)
  if (name === 'undici') {
    const d = new UndiciAgent().compose(oauth2(provider, { match: base }))
    return undiciRequest(base + path, { dispatcher: d, signal }).then((r) => r.statusCode)
  }
  const k = ky.create({ prefixUrl: base, throwHttpErrors: false, retry: 0, ...kyHooks(provider) })
  return k(path.slice(1), { signal }).then((r) => r.status)
}

describe.each(harnesses)('$name adapter: a 401 storm across a renewal', (harness) => {
  const servers = useServers()
  it.each([false, true])(
    '250 calls with the stale token, 250 started with the renewed one (it is refused too: %s): 1 token request (2)',
    async (revokeNew) => {
      const client = harness.create(servers.provider, servers.api.url)
      try {
        expect((await client.send('GET', '/echo/warm')).status).toBe(200)
        servers.auth.revokeAll()
        servers.auth.stats.reset()
        servers.api.stats.reset()
        let second: Promise<{ status: number }[]> | undefined
        let n = 0
        servers.provider.on('token', () => {
          if (n++ > 0) return
          if (revokeNew) servers.auth.revokeAll()
          second = Promise.all(Array.from({ length: 250 }, (_, i) => client.send('GET', `/echo/new/${i}`)))
        })
        const first = await Promise.all(
          Array.from({ length: 250 }, (_, i) => client.send('GET', `/echo/old/${i}`)),
        )
        const later = await second!
        const sends = Object.entries(servers.api.stats.byPath)
        expect(Math.max(...sends.map(([, c]) => c))).toBeLessThanOrEqual(2)
        if (!revokeNew) {
          expect(first.filter((o) => o.status !== 200)).toEqual([])
          expect(later.filter((o) => o.status !== 200)).toEqual([])
          expect(servers.auth.stats.tokenRequests).toBe(1)
          expect(servers.api.stats.requests).toBe(750)
        } else {
          expect(later.filter((o) => o.status !== 200)).toEqual([])
          expect(servers.auth.stats.tokenRequests).toBe(2)
        }
      } finally {
        client.close()
      }
    },
  )
})
