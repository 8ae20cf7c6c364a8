import { Agent, createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { oauth2Interceptor } from '@tokenwell/axios'
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { oauth2Hooks } from '@tokenwell/got'
import axios from 'axios'
import got from 'got'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Rules 5 and 2 together: an error is scrubbed of the token, and what it reaches includes the
// client's agent and sockets, and through them the requests queued behind it (an agent with
// `maxSockets`). Scrubbing those before they are sent would send them with `[redacted]`: a 401
// each, a needless refresh and replays, a stream body failed. Counted at the API: what each
// request carried; and in the error, printed once every request ended.
const TOKEN = 'at-queued+request/0123456789abcdef='
const QUEUED = 10

describe('an error while requests wait for the agent’s one socket', () => {
  let server: Server
  let baseUrl: string
  const carried: string[] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      carried.push(String(req.headers.authorization))
      if (req.url?.endsWith('/fail')) res.writeHead(500, { 'content-type': 'application/json' }).end('{}')
      else setTimeout(() => res.end('{}'), 5)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  type Send = (provider: TokenProvider, agent: Agent) => (path: string) => Promise<unknown>
  it.each<[string, Send]>([
    [
      'got',
      (provider, agent) => {
        const client = got.extend(oauth2Hooks(provider), {
          prefixUrl: baseUrl,
          retry: { limit: 0 },
          agent: { http: agent },
        })
        return (path) => client(path)
      },
    ],
    [
      'axios',
      (provider, agent) => {
        const instance = axios.create({ baseURL: baseUrl, httpAgent: agent })
        oauth2Interceptor(instance, provider)
        return (path) => instance.get(`/${path}`)
      },
    ],
  ])('%s: every queued request goes with the token, and the error holds none of it', async (_, clientOf) => {
    let tokenRequests = 0
    const provider = createTokenProvider({
      tokenEndpoint: 'http://127.0.0.1:1/token',
      clientId: 'c',
      clientSecret: 's',
      fetch: async () => {
        tokenRequests++
        return Response.json({ access_token: TOKEN, token_type: 'Bearer', expires_in: 300 })
      },
    })
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const send = clientOf(provider, agent)
      await send('warm')
      carried.length = 0
      const paths = ['fail', ...Array.from({ length: QUEUED }, (_, i) => `ok-${i}`)]
      const results = await Promise.allSettled(paths.map(send))
      expect(results.map((r) => r.status)).toEqual(['rejected', ...Array(QUEUED).fill('fulfilled')])
      expect(carried).toEqual(Array(QUEUED + 1).fill(`Bearer ${TOKEN}`))
      expect(tokenRequests).toBe(1)
      const error = (results[0] as PromiseRejectedResult).reason
      for (const showHidden of [false, true])
        expect(inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden }).split(TOKEN).length - 1).toBe(
          0,
        )
    } finally {
      agent.destroy()
      await provider.close()
    }
  })
})
