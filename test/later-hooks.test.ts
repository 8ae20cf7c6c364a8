import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { oauth2Interceptor } from '@tokenwell/axios'
import type { TokenProvider } from '@tokenwell/core'
import { oauth2Hooks } from '@tokenwell/got'
import { oauth2Hooks as kyHooks } from '@tokenwell/ky'
import axios, { type InternalAxiosRequestConfig } from 'axios'
import got, { type BeforeRequestHook } from 'got'
import ky, { TimeoutError } from 'ky'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { followLikeNodeFetch } from './support/node-fetch-like.js'
import { issuingProvider, type Recorder, startRecorder } from './support/recorder.js'

// Rule 6 of DESIGN.md against a hook of the caller's that runs after the adapter's (an axios request
// interceptor added before oauth2Interceptor, a later got or ky beforeRequest hook) and moves the
// request: the adapter has the last word before the send, so the token and proof go only to the
// origin they were decided for. A is the API, E a second origin that records all it receives.

/** The options a got `beforeRequest` hook receives. */
type GotOptions = Parameters<BeforeRequestHook>[0]

const OWN = 'Basic b3duOm93bg=='

/** What a later hook does to a request headed for A: `E` and `A` are the two origins. */
type Move = (origins: { A: string; E: string }) => {
  /** axios: a request interceptor added before oauth2Interceptor (axios runs it after ours). */
  axios: (config: InternalAxiosRequestConfig) => void
  /** got: a beforeRequest hook after ours. */
  got: (options: GotOptions) => void
  /** ky: a beforeRequest hook after ours, which returns the request ky sends instead. */
  ky: (request: Request) => Request
}

const toE: Move = ({ E }) => ({
  axios: (config) => {
    config.url = `${E}/moved`
  },
  got: (options) => {
    Object.assign(options, { url: `${E}/moved` }) // got's setter takes a string too
  },
  ky: (request) => new Request(`${E}/moved`, request),
})
/** axios: moves it and sets `transformRequest` wholesale (where the adapter's last word is); the others as `toE`. */
const transformsToE: Move = (origins) => ({
  ...toE(origins),
  axios: (config) => {
    config.url = `${origins.E}/moved`
    config.transformRequest = [(data) => data]
  },
})
/** Another way per client: axios's baseURL, got's prefixUrl and a URL object, ky's Request with init. */
const baseToE: Move = ({ E }) => ({
  axios: (config) => {
    config.baseURL = E
    config.url = 'moved'
  },
  got: (options) => {
    options.prefixUrl = `${E}/` // the URL keeps its path, on E
  },
  ky: (request) => new Request(new URL(`${E}/moved`), { method: request.method, headers: request.headers }),
})
const ownToE: Move = ({ E }) => ({
  axios: (config) => {
    config.url = `${E}/moved`
    config.headers.set('Authorization', OWN)
  },
  got: (options) => {
    options.url = new URL(`${E}/moved`)
    options.headers.authorization = OWN
  },
  ky: (request) => {
    const moved = new Request(`${E}/moved`, request)
    moved.headers.set('authorization', OWN)
    return moved
  },
})
const pathOnA: Move = ({ A }) => ({
  axios: (config) => {
    config.url = 'moved-here'
  },
  got: (options) => {
    options.url = new URL(`${A}/moved-here`)
  },
  ky: (request) => new Request(`${A}/moved-here`, request),
})
/** E answers with a redirect back to A: a request that left the origin gets nothing back there. */
const bounceToE: Move = ({ A, E }) => {
  const target = `${E}/bounce?to=${encodeURIComponent(`${A}/back`)}`
  return {
    // once: the client runs the hook again for the hop back (got, axios's DPoP hops)
    axios: (config) => {
      if (config.url === 'start') config.url = target
    },
    got: (options) => {
      if ((options.url as URL).pathname === '/start') options.url = new URL(target)
    },
    ky: (request) => new Request(target, request),
  }
}

/** A later hook that moves the request to a path on A that redirects to E: the hop to E carries nothing. */
const pathOnAAway: Move = ({ A, E }) => {
  const path = `bounce?to=${encodeURIComponent(`${E}/landing`)}`
  return {
    axios: (config) => {
      if (config.url === 'start') config.url = path
    },
    got: (options) => {
      if ((options.url as URL).pathname === '/start') options.url = new URL(`${A}/${path}`)
    },
    ky: (request) => new Request(`${A}/${path}`, request),
  }
}

type Name = 'axios' | 'got' | 'ky'
const adapters: readonly Name[] = ['axios', 'got', 'ky']

describe.each(adapters.flatMap((name) => [false, true].map((dpop) => ({ name, dpop }))))(
  '$name (DPoP: $dpop): a hook that runs after the adapter’s',
  ({ name, dpop }: { name: Name; dpop: boolean }) => {
    let api: Recorder
    let evil: Recorder
    let provider: TokenProvider
    let tokens: string[]

    beforeAll(async () => {
      api = await startRecorder()
      evil = await startRecorder()
    })
    afterAll(async () => {
      await api.close()
      await evil.close()
    })
    beforeEach(() => {
      api.requests.length = 0
      evil.requests.length = 0
      tokens = []
      provider = issuingProvider(tokens, dpop)
    })
    afterEach(() => provider.close())

    /** How many times a token appears in all the headers `server` received, and how many DPoP proofs it got. */
    const leaked = (server: Recorder) => {
      const text = server.text()
      const copies = tokens.reduce((sum, token) => sum + text.split(token).length - 1, 0)
      return copies + server.requests.filter((r) => r.dpop !== undefined).length
    }
    const scheme = dpop ? 'DPoP ' : 'Bearer '

    /** Sends GET `start` (relative to A) through `name`, with `move` run after the adapter's hook; per request for got and ky when `perRequest`. */
    async function send(move: Move | undefined, perRequest = false): Promise<number> {
      const hook = move?.({ A: api.url, E: evil.url })[name]
      switch (name) {
        case 'axios': {
          const instance = axios.create({ baseURL: api.url, validateStatus: () => true })
          const later = hook as ((config: InternalAxiosRequestConfig) => void) | undefined
          if (later)
            instance.interceptors.request.use((config) => {
              later(config)
              return config
            })
          oauth2Interceptor(instance, provider)
          return (await instance.get('start')).status
        }
        case 'got': {
          const hooks = hook ? { beforeRequest: [hook as (options: GotOptions) => void] } : {}
          const client = got.extend(oauth2Hooks(provider), {
            prefixUrl: api.url,
            throwHttpErrors: false,
            retry: { limit: 0 },
            ...(!perRequest && { hooks }),
          })
          return (await client('start', perRequest ? { hooks } : {})).statusCode
        }
        case 'ky': {
          const hooks = { beforeRequest: hook ? [hook as (request: Request) => Request] : [] }
          const base = ky.create({
            prefixUrl: api.url,
            throwHttpErrors: false,
            retry: 0,
            ...kyHooks(provider),
          })
          const client = perRequest ? base : base.extend({ hooks })
          const response = await client('start', perRequest ? { hooks } : {})
          await response.arrayBuffer()
          return response.status
        }
      }
    }

    it('control: without a later hook, the API gets the token', async () => {
      expect(await send(undefined)).toBe(200)
      expect(api.requests.map((r) => [r.path, r.authorization?.startsWith(scheme)])).toEqual([
        ['/start', true],
      ])
      expect(leaked(api)).toBe(dpop ? 2 : 1)
    })

    it.each([
      ['sets an absolute URL on another origin', toE, false],
      ['moves the base URL (or builds the request anew) to another origin', baseToE, false],
      ['is the request’s own and moves it to another origin', toE, true],
      ['moves it and replaces the request transforms', transformsToE, false],
    ] as const)(
      'a later hook that %s: the second origin gets no token, no proof',
      async (_label, move, perRequest) => {
        if (perRequest && name === 'axios') return // axios has no per-request interceptors
        expect(await send(move, perRequest)).toBe(200)
        expect(evil.requests.map((r) => [r.authorization, r.dpop])).toEqual([[undefined, undefined]])
        expect(leaked(evil)).toBe(0)
        expect(api.requests).toEqual([])
      },
    )

    it.each(['instance', 'request'] as const)(
      'axios: a transformRequest of the %s’s that moves the request (axios calls it with the config as this), no interceptor after ours: the second origin gets no token, no proof',
      async (level) => {
        if (name !== 'axios') return
        const transformRequest = [
          function move(this: InternalAxiosRequestConfig, data: unknown) {
            if (level === 'instance') this.url = `${evil.url}/moved`
            else this.baseURL = evil.url
            return data
          },
        ]
        const instance = axios.create({
          baseURL: api.url,
          validateStatus: () => true,
          ...(level === 'instance' && { transformRequest }),
        })
        oauth2Interceptor(instance, provider)
        const { status } = await instance.get('start', level === 'request' ? { transformRequest } : {})
        expect(status).toBe(200)
        expect(evil.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
          [level === 'instance' ? '/moved' : '/start', undefined, undefined],
        ])
        expect(leaked(evil)).toBe(0)
        expect(api.requests).toEqual([])
      },
    )

    it.each<[string, (config: InternalAxiosRequestConfig) => void, 'fetch' | undefined]>([
      [
        'sets maxRedirects',
        (config) => {
          config.maxRedirects = 5
        },
        'fetch',
      ],
      [
        'deletes maxRedirects',
        (config) => {
          delete config.maxRedirects
        },
        'fetch',
      ],
      [
        'switches to the fetch adapter, with a maxRedirects of its own',
        (config) => {
          config.adapter = 'fetch'
          config.maxRedirects = 5
        },
        undefined,
      ],
    ])(
      'axios: a later interceptor that %s, a redirect away: the second origin gets no token, no proof (the fetch adapter follows with any header but Authorization)',
      async (_label, later, adapter) => {
        if (name !== 'axios') return
        const instance = axios.create({
          baseURL: api.url,
          validateStatus: () => true,
          ...(adapter && { adapter }),
        })
        instance.interceptors.request.use((config) => {
          later(config)
          return config
        })
        oauth2Interceptor(instance, provider)
        const away = `bounce?status=307&to=${encodeURIComponent(`${evil.url}/landing`)}`
        expect((await instance.get(away)).status).toBe(200)
        expect(
          api.requests.map((r) => [r.path, r.authorization?.startsWith(scheme), r.dpop !== undefined]),
        ).toEqual([['/bounce', true, dpop]])
        expect(evil.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
          ['/landing', undefined, undefined],
        ])
        expect(leaked(evil)).toBe(0)
      },
    )

    it('a later hook that moves the request and sets its own Authorization: that one goes where it sends it', async () => {
      expect(await send(ownToE)).toBe(200)
      expect(evil.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
        ['/moved', OWN, undefined],
      ])
      expect(leaked(evil)).toBe(0)
    })

    it('a later hook that changes only the path on the API’s origin: the token still goes', async () => {
      expect(await send(pathOnA)).toBe(200)
      expect(
        api.requests.map((r) => [r.path, r.authorization?.startsWith(scheme), r.dpop !== undefined]),
      ).toEqual([['/moved-here', true, dpop]])
      expect(evil.requests).toEqual([])
    })

    it('a later hook that moves the request to a path on the API that redirects away: nothing at the second origin', async () => {
      expect(await send(pathOnAAway)).toBe(200)
      expect(api.requests.map((r) => [r.path, r.authorization?.startsWith(scheme)])).toEqual([
        ['/bounce', true],
      ])
      expect(evil.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
        ['/landing', undefined, undefined],
      ])
      expect(leaked(evil)).toBe(0)
    })

    it('a later hook that moves the request to an origin that redirects back to the API: nothing on the way back', async () => {
      expect(await send(bounceToE)).toBe(200)
      expect(evil.requests.map((r) => r.path)).toEqual(['/bounce'])
      expect(api.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
        ['/back', undefined, undefined],
      ])
      expect(leaked(evil) + leaked(api)).toBe(0)
    })
  },
)

/** A fetch that keeps `authorization` for the same host name on any port (both recorders are 127.0.0.1), as node-fetch 3 does. */
const nodeFetchLike = followLikeNodeFetch(fetch)

// ky hands its afterResponse and beforeRetry hooks the request it sent, our token and proof on it,
// and its docs build the retry's request from it: `ky.retry({ request: new Request(url, request) })`.
// Such a copy to the API's origin goes as the adapter's own send: redirects and timeouts included.
describe.each([
  { dpop: false, wrapped: true },
  { dpop: true, wrapped: false },
  { dpop: true, wrapped: true },
])(
  'ky (DPoP: $dpop, a fetch of the caller’s: $wrapped): a hook’s copy of the request it was handed',
  ({ dpop, wrapped }) => {
    let api: Recorder
    let evil: Recorder
    let hang: ReturnType<typeof createServer>
    let hangUrl: string
    let provider: TokenProvider
    const tokens: string[] = []
    beforeAll(async () => {
      api = await startRecorder()
      evil = await startRecorder()
      // answers `/first`, never answers anything else
      hang = createServer((req, res) => {
        req.resume()
        if (req.url === '/first') res.writeHead(200).end('{}')
      })
      await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve))
      hangUrl = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`
    })
    afterAll(async () => {
      await api.close()
      await evil.close()
      hang.closeAllConnections()
      hang.close()
    })
    beforeEach(() => {
      api.requests.length = 0
      evil.requests.length = 0
      provider = issuingProvider(tokens, dpop)
    })
    afterEach(() => provider.close())
    const clientFor = (prefixUrl: string, timeout: number | false = false) =>
      ky.create({
        prefixUrl,
        retry: { limit: 1, delay: () => 0 },
        timeout,
        ...kyHooks(provider, wrapped ? { fetch: nodeFetchLike as typeof fetch } : {}),
      })
    /** Every token and proof text in `text`. */
    const copies = (text: string) =>
      tokens.reduce((sum, token) => sum + text.split(token).length - 1, 0) +
      (text.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? []).length

    it('ky.retry({ request }) to a path on the API that redirects away: nothing at the second origin', async () => {
      let sent = 0
      const away = `${api.url}/bounce?to=${encodeURIComponent(`${evil.url}/landing`)}`
      const response = await clientFor(api.url)('start', {
        hooks: {
          afterResponse: [
            (request) => (sent++ === 0 ? ky.retry({ request: new Request(away, request) }) : undefined),
          ],
        },
      })
      await response.arrayBuffer()
      expect(
        api.requests.map((r) => [r.path, r.authorization?.startsWith(dpop ? 'DPoP ' : 'Bearer ')]),
      ).toEqual([
        ['/start', true],
        ['/bounce', true],
      ])
      expect(evil.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
        ['/landing', undefined, undefined],
      ])
      expect(copies(evil.text())).toBe(0)
    })

    it('an afterResponse hook that sends its request again with a ky of its own, to a path on the API that redirects away: nothing at the second origin', async () => {
      const away = `${api.url}/bounce?to=${encodeURIComponent(`${evil.url}/landing`)}`
      const handed: (string | null)[] = []
      const response = await clientFor(api.url)('start', {
        hooks: {
          afterResponse: [
            (request) => {
              handed.push(request.headers.get('authorization'), request.headers.get('dpop'))
              return request.url.endsWith('/start') ? ky(new Request(away, request), { retry: 0 }) : undefined
            },
          ],
        },
      })
      await response.arrayBuffer()
      expect(handed).toEqual([null, null]) // ky keeps a clone of what it sent: without our values
      expect(evil.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
        ['/landing', undefined, undefined],
      ])
      expect(copies(evil.text())).toBe(0)
    })

    it('a beforeError hook of the instance the hooks extend (it runs before theirs) prints the error: no token, no proof', async () => {
      const printed: string[] = []
      const existing = ky.create({
        prefixUrl: api.url,
        retry: 0,
        hooks: {
          afterResponse: [() => new Response('busy', { status: 503 })],
          beforeError: [
            (error) => {
              printed.push(inspect(error, { depth: 8, showHidden: true }), JSON.stringify(error))
              printed.push(JSON.stringify([...error.request.headers]))
              return error
            },
          ],
        },
      })
      const authed = existing.extend(
        kyHooks(provider, wrapped ? { fetch: nodeFetchLike as typeof fetch } : {}),
      )
      await expect(authed.get('start')).rejects.toMatchObject({ name: 'HTTPError' })
      expect(api.requests.map((r) => r.authorization?.startsWith(dpop ? 'DPoP ' : 'Bearer '))).toEqual([true])
      expect(copies(printed.join('\n'))).toBe(0)
    })

    it('ky.retry({ request }) on the API that times out: the TimeoutError holds no token, no proof', async () => {
      let sent = 0
      const error = await clientFor(hangUrl, 300)('first', {
        hooks: {
          afterResponse: [
            (request) =>
              sent++ === 0 ? ky.retry({ request: new Request(`${hangUrl}/slow`, request) }) : undefined,
          ],
        },
      }).catch((e: unknown) => e as TimeoutError)
      expect(error).toBeInstanceOf(TimeoutError)
      const request = (error as TimeoutError).request
      const text = [
        inspect(error, { depth: 8, showHidden: true }),
        JSON.stringify(error),
        JSON.stringify([...request.headers]),
      ].join('\n')
      expect(copies(text)).toBe(0)
    })
  },
)
