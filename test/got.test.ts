import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { createTokenProvider } from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'
import { oauth2Hooks } from '@tokenwell/got'
import got, { HTTPError } from 'got'
import { afterEach, describe, expect, it } from 'vitest'
import { fixedTokenProvider, issuingProvider, startRecorder } from './support/recorder.js'
import { useServers } from './support/servers.js'

describe('@tokenwell/got over loopback HTTP', () => {
  const servers = useServers()
  const http = new Agent({ keepAlive: true, maxSockets: 16 })
  afterEach(() => http.destroy())
  const create = (options: Parameters<typeof oauth2Hooks>[1] = {}) =>
    got.extend(oauth2Hooks(servers.provider, options), { prefixUrl: servers.api.url, agent: { http } })

  it('sends no token to an absolute URL on another origin than prefixUrl', async () => {
    const presigned = `${servers.other.url}/public/presigned?sig=abc`
    const body = await create().put(presigned, { prefixUrl: '', body: 'file' }).json()
    expect(body).toMatchObject({ authorized: false })
    expect(servers.other.requests.map((r) => r.authorization)).toEqual([false])
  })

  it("keeps got's own retry: a 503 is retried with the token, and a 401 replay does not spend the limit", async () => {
    const api = create().extend({ retry: { limit: 1, backoffLimit: 20 } })
    servers.api.failNext(1, { status: 503 })
    expect(await api.get('echo/flaky').json()).toMatchObject({ authorized: true })
    expect(servers.api.requests.map((r) => [r.status, r.authorization])).toEqual([
      [503, true],
      [200, true],
    ])
    servers.auth.revokeAll()
    servers.api.failNext(1, { status: 503 })
    // 401 → replay (not counted) → 503 → got's one retry → 200
    expect(await api.get('echo/after-revoke').json()).toMatchObject({ authorized: true })
    expect(servers.api.stats.byPath['/echo/after-revoke']).toBe(3)
    // the error got gives up with, after its retries, carries no token
    servers.api.failNext(2, { status: 503 })
    const error = await api.get('echo/down').catch((e: unknown) => e)
    expect((error as Error).name).toBe('HTTPError')
    expect(servers.api.stats.byPath['/echo/down']).toBe(2)
    const token = (await servers.provider.getToken()).accessToken
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY })).not.toContain(token)
  })

  it("rejects a second 401 with got's HTTPError and keeps the caller's hooks", async () => {
    const seen: number[] = []
    const api = create().extend({
      hooks: {
        afterResponse: [
          (response) => {
            seen.push(response.statusCode)
            return response
          },
        ],
      },
    })
    const error = await api.get('always-401').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HTTPError)
    expect((error as HTTPError).response.statusCode).toBe(401)
    expect(servers.api.stats.byPath['/always-401']).toBe(2)
    expect(seen).toEqual([401])
  })

  it("an abort while the token is on its way ends in got's AbortError; the shared token request goes on", async () => {
    servers.auth.setLatency(150)
    const api = create()
    const controller = new AbortController()
    const aborted = api.get('echo/aborted', { signal: controller.signal }).catch((e: unknown) => e)
    const patient = api.get('echo/patient').json()
    setTimeout(() => controller.abort(), 20)
    expect(await aborted).toMatchObject({ name: 'AbortError' })
    expect(await patient).toMatchObject({ authorized: true })
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.byPath['/echo/aborted']).toBeUndefined()
  })
})

describe('@tokenwell/got errors after a redirect chain that left the origin and came back', () => {
  // found by test/hostile-redirects.test.ts: got rejects while the last hop's socket is still in the
  // agent, and that socket leads back to the request and its options, which got prints anew each time
  it('a 302 to itself, then 301s away and back until the limit: the error prints to the end, without a token', async () => {
    const recorder = await startRecorder()
    const seen: [string, string | undefined][] = []
    const api = createServer((req, res) => {
      req.resume()
      seen.push([req.url ?? '', req.headers.authorization])
      const back = `${recorder.url}/bounce?to=${encodeURIComponent(`${base}/back`)}`
      res
        .writeHead(req.url === '/hostile' ? 302 : 301, { location: req.url === '/hostile' ? '/hop' : back })
        .end()
    })
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
    const provider = fixedTokenProvider()
    const http = new Agent({ keepAlive: true })
    const client = got.extend(oauth2Hooks(provider), {
      prefixUrl: base,
      agent: { http },
      retry: { limit: 0 },
    })
    try {
      // printed as a caller would log it on the spot, before the agent lets the socket go
      const printed = await client.post('hostile').then(
        () => 'resolved',
        (error: unknown) => `${inspect(error, { depth: Number.POSITIVE_INFINITY })}`,
      )
      expect(printed).toContain("code: 'ERR_TOO_MANY_REDIRECTS'")
      expect(printed).not.toContain('SECRET')
      // the token went to the origin until the chain left it, and never after: not away, not back
      expect(seen).toEqual([
        ['/hostile', 'Bearer tok-SECRET'],
        ['/hop', 'Bearer tok-SECRET'],
        ...Array.from({ length: 4 }, () => ['/back', undefined]),
      ])
      expect(recorder.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual(
        Array.from({ length: 5 }, () => ['/bounce', undefined, undefined]),
      )
      expect(recorder.text()).not.toContain('SECRET')
    } finally {
      http.destroy()
      await provider.close()
      await new Promise<void>((resolve) => api.close(() => resolve()))
      await recorder.close()
    }
  })
})

describe('@tokenwell/got and a context carried over from an earlier request', () => {
  it('a new request given an earlier response’s context, with the caller’s own Authorization: theirs goes, not the token', async () => {
    const api = await startRecorder()
    const provider = fixedTokenProvider()
    const client = got.extend(oauth2Hooks(provider), { prefixUrl: api.url })
    const first = await client('first')
    const { context } = first.request.options // it holds the first request's grant
    await client('own', { context, headers: { authorization: 'Basic b3duOm93bg==' } })
    await client('fresh', { context })
    expect(api.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/first', 'Bearer tok-SECRET'],
      ['/own', 'Basic b3duOm93bg=='],
      ['/fresh', 'Bearer tok-SECRET'],
    ])
    await api.close()
    await provider.close()
  })
})

describe('@tokenwell/got and a promise cancelled with cancel()', () => {
  // got's CancelError reaches no hook (cancel() rejects at once) and holds the attempt it ended:
  // its options (JSON.stringify prints them) and request, whose Node ClientRequest keeps the raw head
  it.each([false, true])(
    'the CancelError holds no token, no proof (DPoP: %s): mid-answer, after a retry, while the token is on its way',
    async (dpop) => {
      const slow = createServer((req, res) => {
        req.resume()
        const first = req.url === '/flaky' && !failed
        failed ||= first
        if (first) res.writeHead(503).end()
        else setTimeout(() => res.writeHead(200).end('{}'), 2_000).unref()
      })
      let failed = false
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
      const sent: string[] = []
      let latency = 0
      const provider = createTokenProvider({
        tokenEndpoint: 'http://127.0.0.1:1/token',
        clientId: 'c',
        clientSecret: 's',
        ...(dpop && { dpop: createDpop() }),
        fetch: async () => {
          await new Promise((resolve) => setTimeout(resolve, latency))
          return Response.json({
            access_token: 'tok-SECRET',
            token_type: dpop ? 'DPoP' : 'Bearer',
            expires_in: 300,
          })
        },
      })
      const client = got.extend(oauth2Hooks(provider), {
        prefixUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
        retry: { limit: 1, calculateDelay: ({ computedValue }) => (computedValue ? 1 : 0) },
        hooks: { beforeRequest: [(options) => void sent.push(String(options.headers.dpop))] },
      })
      const copies = (error: unknown) => {
        const text = [
          inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
          JSON.stringify(error),
        ].join('\n')
        return [...sent.filter((proof) => proof !== 'undefined'), 'tok-SECRET'].reduce(
          (sum, secret) => sum + text.split(secret).length - 1,
          0,
        )
      }
      try {
        for (const [path, wait] of [
          ['slow', 150],
          ['flaky', 150],
        ] as const) {
          const request = client(path)
          setTimeout(() => request.cancel(), wait)
          const error = await request.catch((e: unknown) => e)
          expect(error).toMatchObject({ name: 'CancelError' })
          expect(copies(error)).toBe(0)
        }
        expect(sent).toHaveLength(3) // slow, flaky twice: each went with the token
        await provider.getToken({ forceRefresh: true }) // a cold provider for the last
        provider.invalidate(await provider.getToken())
        latency = 150
        const waiting = client('slow')
        setTimeout(() => waiting.cancel(), 20)
        const error = await waiting.catch((e: unknown) => e)
        await new Promise((resolve) => setTimeout(resolve, 300)) // the token arrived since
        expect(copies(error)).toBe(0)
      } finally {
        await provider.close()
        slow.closeAllConnections()
        await new Promise<void>((resolve) => slow.close(() => resolve()))
      }
    },
  )
})

describe('@tokenwell/got over Unix domain sockets (enableUnixSockets)', () => {
  // got has each socket for an origin of its own (a redirect to another drops authorization); the
  // URL parser gives every http://unix:<socket>:<path> the origin http://unix
  it.each([false, true])(
    'a token for the API’s socket goes to no other socket: not on a redirect there, not to an absolute URL (DPoP: %s)',
    async (dpop) => {
      const dir = mkdtempSync(join(tmpdir(), 'tokenwell-sockets-'))
      const [apiSocket, otherSocket] = [join(dir, 'api.sock'), join(dir, 'other.sock')]
      const seen: Record<'api' | 'other', [string, boolean, boolean][]> = { api: [], other: [] }
      const listen = (name: keyof typeof seen, path: string) => {
        const server = createServer((req, res) => {
          req.resume()
          seen[name].push([
            req.url ?? '',
            req.headers.authorization !== undefined,
            req.headers.dpop !== undefined,
          ])
          const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to')
          if (to) res.writeHead(req.url?.startsWith('/307') ? 307 : 302, { location: to }).end()
          else res.writeHead(200).end('{}')
        })
        return new Promise<typeof server>((resolve) => server.listen(path, () => resolve(server)))
      }
      const servers = [await listen('api', apiSocket), await listen('other', otherSocket)]
      const provider = fixedTokenProvider(undefined, dpop ? { dpop: createDpop() } : {})
      const client = got.extend(oauth2Hooks(provider, { allowInsecureHttp: true }), {
        prefixUrl: `http://unix:${apiSocket}:`,
        enableUnixSockets: true,
        retry: { limit: 0 },
      })
      const other = (path: string) => encodeURIComponent(`http://unix:${otherSocket}:${path}`)
      try {
        await client(`302?to=${other('/302')}`)
        await client.post(`307?to=${other('/307')}`, { body: 'for the API' })
        await client(`http://unix:${otherSocket}:/absolute`, { prefixUrl: '' })
        await client(`302?to=${encodeURIComponent(`http://unix:${apiSocket}:/same`)}`)
        expect(seen.other).toEqual([
          ['/302', false, false],
          ['/307', false, false],
          ['/absolute', false, false],
        ])
        // got sends no retry to a socket (its copy of the options forgets it): no replay of a 401 here
        expect(seen.api.map(([path, ...sent]) => [path.replace(/\?.*/, ''), ...sent])).toEqual(
          ['/302', '/307', '/302', '/same'].map((path) => [path, true, dpop]),
        )
      } finally {
        await provider.close()
        for (const server of servers) {
          server.closeAllConnections()
          await new Promise<void>((resolve) => server.close(() => resolve()))
        }
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})

describe('@tokenwell/got and the error a retry starts from', () => {
  // got hands it to the caller's beforeRetry hooks, which log it (its request, hidden, keeps the raw head that went)
  it.each([false, true])(
    'a beforeRetry hook of the caller’s, before or after the adapter’s, sees no token, no proof (a 503, a reset; showHidden too); the retry carries them (DPoP: %s)',
    async (dpop) => {
      const seen: [string | undefined, string | undefined][] = []
      const api = createServer((req, res) => {
        req.resume()
        seen.push([req.headers.authorization, req.headers.dpop as string | undefined])
        if (seen.length % 2 === 0) res.writeHead(200).end('{}')
        else if (req.url === '/reset')
          req.socket.destroy() // ECONNRESET: no response, the error holds the request
        else res.writeHead(503).end('{}')
      })
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
      const provider = fixedTokenProvider(undefined, dpop ? { dpop: createDpop() } : {})
      const logged: string[] = []
      const log = (error: unknown) =>
        void logged.push(
          inspect(error, { depth: Number.POSITIVE_INFINITY }),
          inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
          JSON.stringify(error),
        )
      const defaults = {
        prefixUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        retry: {
          limit: 1,
          calculateDelay: ({ computedValue }: { computedValue: number }) => (computedValue ? 1 : 0),
        },
      }
      const after = got.extend(oauth2Hooks(provider), defaults, { hooks: { beforeRetry: [log] } })
      const before = got.extend({ hooks: { beforeRetry: [log] } }).extend(oauth2Hooks(provider), defaults)
      try {
        for (const client of [after, before])
          for (const path of ['flaky', 'reset']) expect((await client(path)).statusCode).toBe(200)
        expect(logged).toHaveLength(12)
        const secrets = ['tok-SECRET', ...seen.flatMap(([, proof]) => (proof ? [proof] : []))]
        const text = logged.join('\n')
        expect(secrets.reduce((sum, secret) => sum + text.split(secret).length - 1, 0)).toBe(0)
        expect(
          seen.map(([authorization, proof]) => [authorization?.endsWith('tok-SECRET'), proof !== undefined]),
        ).toEqual(Array.from({ length: 8 }, () => [true, dpop]))
        if (dpop) expect(new Set(seen.map(([, proof]) => proof)).size).toBe(8)
      } finally {
        await provider.close()
        api.closeAllConnections()
        await new Promise<void>((resolve) => api.close(() => resolve()))
      }
    },
  )
})

describe('@tokenwell/got and two instances merged into one (got.extend(a, b))', () => {
  // got concatenates their hooks: each pair must keep its own grant in the context the request shares
  it('each provider’s token goes to its own match only, in either order, a step-up challenge too', async () => {
    const seen: Record<'A' | 'B', string[]> = { A: [], B: [] }
    const servers: ReturnType<typeof createServer>[] = []
    const listen = async (name: 'A' | 'B') => {
      const server = createServer((req, res) => {
        req.resume()
        seen[name].push(`${req.url} ${req.headers.authorization}`)
        if (req.url === '/step') res.writeHead(403, { 'www-authenticate': STEP_UP }).end('{}')
        else res.writeHead(200).end('{}')
      })
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }
    const STEP_UP = 'Bearer error="insufficient_scope", scope="more"'
    const [A, B] = [await listen('A'), await listen('B')]
    const provider = (name: string) => fixedTokenProvider(`tok-${name}`)
    const providers = [provider('A'), provider('B')] as const
    const a = got.extend(oauth2Hooks(providers[0], { match: A }), { prefixUrl: A })
    const b = got.extend(oauth2Hooks(providers[1], { match: B, stepUp: true }), { prefixUrl: B })
    const options = { prefixUrl: '', retry: { limit: 0 }, throwHttpErrors: false }
    try {
      for (const both of [got.extend(a, b), got.extend(b, a)]) {
        await both(`${A}/step`, options) // B's hooks would answer it: with B's token, to A
        await both(`${B}/step`, options)
        await both(`${A}/a`, options)
        await both(`${B}/b`, options)
      }
      const twice = (list: string[]) => [...list, ...list]
      expect(seen.A).toEqual(twice(['/step Bearer tok-A', '/a Bearer tok-A']))
      expect(seen.B).toEqual(twice(['/step Bearer tok-B', '/step Bearer tok-B', '/b Bearer tok-B']))
    } finally {
      await Promise.all(providers.map((p) => p.close()))
      for (const server of servers) {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    }
  })
})

describe('@tokenwell/got and the beforeError hooks of an instance the adapter’s hooks extend', () => {
  // got runs that instance's hooks first: a base instance with a logging hook, extended with oauth2Hooks
  it('they see the error scrubbed: no token in what they log', async () => {
    const api = await startRecorder()
    const provider = fixedTokenProvider()
    const logged: string[] = []
    const log = (error: Error) => {
      logged.push(inspect(error, { depth: Number.POSITIVE_INFINITY }), JSON.stringify(error))
      return error
    }
    const base = got.extend({ hooks: { beforeError: [log] } })
    const client = base.extend(oauth2Hooks(provider), { prefixUrl: api.url, retry: { limit: 0 } })
    try {
      const unparsable = {
        responseType: 'json',
        parseJson: () => {
          throw new SyntaxError('not JSON')
        },
      } as const
      const errors = [
        await client('json', unparsable).catch((e: unknown) => e),
        await client(`bounce?to=${encodeURIComponent(`${api.url}/again`)}`, { maxRedirects: 0 }).catch(
          (e: unknown) => e,
        ),
      ]
      expect(errors.map((error) => (error as Error).name)).toEqual(['ParseError', 'MaxRedirectsError'])
      expect(logged).toHaveLength(4)
      expect(logged.join('\n').split('tok-SECRET').length - 1).toBe(0)
      expect(api.requests.map((r) => r.authorization)).toEqual(['Bearer tok-SECRET', 'Bearer tok-SECRET'])
    } finally {
      await api.close()
      await provider.close()
    }
  })
})

describe('@tokenwell/got and the response it hands back', () => {
  it.each([false, true])(
    'a response, logged as it comes (by a later afterResponse hook too), holds neither token nor proof; the next page carries them (DPoP: %s)',
    async (dpop) => {
      const api = await startRecorder()
      const issued: string[] = []
      const provider = issuingProvider(issued, dpop)
      const logged: string[] = []
      const log = (response: unknown) =>
        void logged.push(
          inspect(response),
          inspect(response, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        )
      const client = got.extend(oauth2Hooks(provider), {
        prefixUrl: api.url,
        retry: { limit: 1, calculateDelay: ({ computedValue }) => (computedValue ? 1 : 0) },
        hooks: {
          afterResponse: [
            (response) => {
              log(response)
              return response
            },
          ],
        },
      })
      try {
        log(await client('a'))
        log(await client.post('b', { json: { n: 1 } }))
        const pages = client.paginate.all('c', {
          pagination: {
            transform: () => [1],
            paginate: ({ response }) => response.url.endsWith('/c') && { url: new URL(`${api.url}/d`) },
          },
        })
        expect(await pages).toHaveLength(2)
        expect(api.requests.map((r) => [r.path, r.authorization?.endsWith('-SECRET')])).toEqual(
          ['/a', '/b', '/c', '/d'].map((path) => [path, true]),
        )
        const proofs = api.requests.flatMap((r) => (r.dpop ? [r.dpop] : []))
        const secrets = [...issued, ...proofs]
        expect(secrets).toHaveLength(dpop ? 5 : 1)
        const text = logged.join('\n')
        expect(secrets.reduce((sum, secret) => sum + text.split(secret).length - 1, 0)).toBe(0)
      } finally {
        await provider.close()
        await api.close()
      }
    },
  )
})
