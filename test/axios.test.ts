import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { oauth2Interceptor } from '@tokenwell/axios'
import axios, { AxiosError, type AxiosResponse } from 'axios'
import axiosRetry from 'axios-retry'
import { afterEach, describe, expect, it } from 'vitest'
import { fixedTokenProvider, issuingProvider, startRecorder } from './support/recorder.js'
import { useServers } from './support/servers.js'

describe('@tokenwell/axios over loopback HTTP', () => {
  const servers = useServers()
  const httpAgent = new Agent({ keepAlive: true, maxSockets: 16 })
  afterEach(() => httpAgent.destroy())
  const create = (options: Parameters<typeof oauth2Interceptor>[2] = {}) => {
    const instance = axios.create({ baseURL: servers.api.url, httpAgent })
    return { instance, eject: oauth2Interceptor(instance, servers.provider, options) }
  }

  it('sends no token to an absolute URL on another origin than baseURL, unless match says so', async () => {
    const { instance } = create()
    const presigned = `${servers.other.url}/public/presigned?sig=abc`
    expect((await instance.put(presigned, 'file')).data).toMatchObject({ authorized: false })
    expect(servers.other.requests.map((r) => r.authorization)).toEqual([false])
    const { instance: both } = create({ match: [servers.api.url, servers.other.url] })
    await both.get(`${servers.other.url}/public/allowed`)
    expect(servers.other.requests.map((r) => r.authorization)).toEqual([false, true])
  })

  it('a socketPath other than the instance’s gets no token: the request, or an interceptor after ours, sets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenwell-sockets-'))
    const seen: Record<'api' | 'other', (string | undefined)[]> = { api: [], other: [] }
    const listen = (name: keyof typeof seen) =>
      new Promise<Server>((resolve) => {
        const server = createServer((req, res) => {
          seen[name].push(req.headers.authorization)
          res.end('{}')
        })
        server.listen(join(dir, `${name}.sock`), () => resolve(server))
      })
    const sockets = [await listen('api'), await listen('other')]
    const other = join(dir, 'other.sock')
    try {
      const { instance } = create()
      await instance.get('/echo/a', { socketPath: other }) // the URL names the API; the socket is another
      const later = axios.create({ baseURL: servers.api.url })
      later.interceptors.request.use((config) => Object.assign(config, { socketPath: other })) // runs after ours
      oauth2Interceptor(later, servers.provider)
      await later.get('/echo/b')
      // an instance made for a socket: its requests there are its origin's
      const own = axios.create({ baseURL: 'http://localhost', socketPath: join(dir, 'api.sock') })
      oauth2Interceptor(own, servers.provider)
      await own.get('/echo/c')
      await own.get('/echo/d', { socketPath: other })
      expect(seen).toEqual({
        api: [expect.stringMatching(/^Bearer /)],
        other: [undefined, undefined, undefined],
      })
    } finally {
      for (const server of sockets) await new Promise((resolve) => server.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.each([false, true])(
    'a response, logged as it comes, holds neither token nor proof; its config sent again is authorized (DPoP: %s)',
    async (dpop) => {
      const api = await startRecorder()
      const proofs: string[] = []
      try {
        const issued: string[] = []
        const provider = issuingProvider(issued, dpop)
        const instance = axios.create({ baseURL: api.url, httpAgent })
        oauth2Interceptor(instance, provider)
        const logged: string[] = []
        const log = ({ data, status, headers, config, request }: AxiosResponse) =>
          logged.push(
            inspect({ data, status, headers, config, request }),
            inspect({ config, request }, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
            JSON.stringify({ data, status, headers, sent: config.headers }),
          )
        const first = await instance.get('/a')
        log(first)
        log(await instance.post('/b', { n: 1 }))
        log(await instance.request(first.config)) // sent again: the token goes anew
        for (const r of api.requests) if (r.dpop) proofs.push(r.dpop)
        expect(api.requests.map((r) => r.authorization?.endsWith('-SECRET'))).toEqual([true, true, true])
        const text = logged.join('\n')
        const secrets = [...issued, ...proofs]
        expect(secrets).toHaveLength(dpop ? 4 : 1)
        expect(secrets.reduce((sum, secret) => sum + text.split(secret).length - 1, 0)).toBe(0)
      } finally {
        await api.close()
      }
    },
  )

  it('an interceptor that runs after ours and deletes transformRequest fails the request: nothing sent', async () => {
    const instance = axios.create({ baseURL: servers.api.url, httpAgent })
    instance.interceptors.request.use((config) => {
      config.url = `${servers.other.url}/public/moved`
      delete config.transformRequest // where the adapter's last word is: not removable
      return config
    })
    oauth2Interceptor(instance, servers.provider)
    const error = await instance.get('/echo/start').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect(String(error)).toContain('transformRequest')
    expect(servers.other.requests).toEqual([])
    expect(servers.api.requests).toEqual([])
  })

  it('rejects a second 401 with the AxiosError axios made, response attached', async () => {
    const error = await create()
      .instance.post('/always-401', { a: 1 })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AxiosError)
    expect((error as AxiosError).response?.status).toBe(401)
    expect((error as AxiosError).response?.headers['www-authenticate']).toContain('invalid_token')
    expect((error as AxiosError).config?.url).toBe('/always-401')
    expect(servers.api.stats.byPath['/always-401']).toBe(2)
  })

  it('an abort while the token is on its way ends in CanceledError; the shared token request goes on', async () => {
    servers.auth.setLatency(150)
    const { instance } = create()
    const controller = new AbortController()
    const aborted = instance.get('/echo/aborted', { signal: controller.signal }).catch((e: unknown) => e)
    const patient = instance.get('/echo/patient')
    setTimeout(() => controller.abort(), 20)
    expect(axios.isCancel(await aborted)).toBe(true)
    expect((await patient).data).toMatchObject({ authorized: true })
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.byPath['/echo/aborted']).toBeUndefined()
  })

  it('runs the caller’s own beforeRedirect after ours: a subdomain hop gets no token, and their hook still runs', async () => {
    // api.test and sub.api.test both resolve to the API on loopback: follow-redirects alone
    // keeps the token on a hop to a subdomain (same port, so the same server records it)
    const port = new URL(servers.api.url).port
    const lookup = (_host: string, _options: unknown, done: (e: null, a: string, f: number) => void) =>
      done(null, '127.0.0.1', 4)
    const instance = axios.create({ baseURL: `http://api.test:${port}`, httpAgent, lookup } as never)
    oauth2Interceptor(instance, servers.provider, { allowInsecureHttp: true })
    const seen: string[] = []
    const beforeRedirect = (options: Record<string, unknown>) => {
      const headers = options['headers'] as Record<string, unknown>
      seen.push(`${options['hostname']} ${Object.keys(headers).some((n) => /^authorization$/i.test(n))}`)
    }
    const away = `http://sub.api.test:${port}/public/landing`
    const response = await instance.get(`/redirect?to=${encodeURIComponent(away)}`, { beforeRedirect })
    expect(response.data).toMatchObject({ path: '/public/landing', authorized: false })
    expect(seen).toEqual(['sub.api.test false']) // their hook ran, after ours took the token off
    expect(servers.api.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/redirect', true],
      ['/public/landing', false],
    ])
    // the same hop with the same hook, after a 401 replay: still chained, still stripped
    servers.auth.revokeAll()
    await instance.get(`/redirect?to=${encodeURIComponent(away)}`, { beforeRedirect })
    expect(seen).toEqual(['sub.api.test false', 'sub.api.test false'])
    expect(
      servers.api.requests.filter((r) => r.path === '/public/landing').map((r) => r.authorization),
    ).toEqual([false, false])
  })

  it('eject() stops both the header and the replay', async () => {
    const { instance, eject } = create()
    eject()
    const error = await instance.get('/echo/x').catch((e: unknown) => e)
    expect((error as AxiosError).response?.status).toBe(401)
    expect(servers.api.requests.map((r) => r.authorization)).toEqual([false])
    expect(servers.auth.stats.tokenRequests).toBe(0)
  })

  it.each(['before', 'after'])(
    'axios-retry registered %s the interceptor retries a 503 with the token; the error it gives up with has none',
    async (order) => {
      const instance = axios.create({ baseURL: servers.api.url, httpAgent })
      const retry = () =>
        axiosRetry(instance, { retries: 2, retryCondition: (e) => e.response?.status === 503 })
      if (order === 'before') retry()
      oauth2Interceptor(instance, servers.provider)
      if (order === 'after') retry()
      servers.api.failNext(1, { status: 503 })
      expect((await instance.get('/echo/flaky')).data).toMatchObject({ authorized: true })
      expect(servers.api.requests.map((r) => [r.status, r.authorization])).toEqual([
        [503, true],
        [200, true],
      ])
      servers.api.failNext(3, { status: 503 })
      const error = await instance.get('/echo/down').catch((e: unknown) => e)
      expect((error as AxiosError).response?.status).toBe(503)
      expect(servers.api.stats.byPath['/echo/down']).toBe(3)
      const token = (await servers.provider.getToken()).accessToken
      expect(inspect(error, { depth: Number.POSITIVE_INFINITY })).not.toContain(token)
      expect(JSON.stringify((error as AxiosError).toJSON())).not.toContain(token)
    },
  )
})

describe('@tokenwell/axios and a config carried over from an earlier request', () => {
  it('a new request made of an earlier response’s config, with the caller’s own Authorization: theirs goes, not the token', async () => {
    const api = await startRecorder()
    const provider = fixedTokenProvider()
    const instance = axios.create({ baseURL: api.url })
    oauth2Interceptor(instance, provider)
    const first = await instance.get('/first') // its config holds the grant
    await instance.request({ ...first.config, url: '/own', headers: { Authorization: 'Basic b3duOm93bg==' } })
    first.config.headers.set('Authorization', 'Basic b3duOm93bg==')
    await instance.request({ ...first.config, url: '/own-set' })
    await instance.request({ ...first.config, url: '/fresh', headers: {} })
    expect(api.requests.map((r) => [r.path, r.authorization])).toEqual([
      ['/first', 'Bearer tok-SECRET'],
      ['/own', 'Basic b3duOm93bg=='],
      ['/own-set', 'Basic b3duOm93bg=='],
      ['/fresh', 'Bearer tok-SECRET'],
    ])
    await api.close()
    await provider.close()
  })
})
