import { Agent, request as httpRequest } from 'node:http'
import { createTokenProvider } from '@tokenwell/core'
import { startMockAuthServer, startProtectedApi } from '@tokenwell/mock-server'
import { describe, expect, it } from 'vitest'
import { useMockServers } from './support/servers.js'

// The mock server under the load the adapter tests put on it: real loopback HTTP, no msw.
const servers = useMockServers({ api: {} })

const basic = `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`
const tokenRequest = () =>
  fetch(servers.auth.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: basic },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })

describe('mock server under concurrent load', () => {
  it('answers 1,000 concurrent protected-API calls with one token, and counts them', async () => {
    servers.api.stats.reset()
    const { access_token } = (await (await tokenRequest()).json()) as { access_token: string }
    const statuses = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        fetch(`${servers.api.url}/echo/${i % 10}`, {
          headers: { authorization: `Bearer ${access_token}` },
        }).then(async (r) => {
          await r.arrayBuffer()
          return r.status
        }),
      ),
    )
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    expect(servers.api.stats.requests).toBe(1_000)
    expect(servers.api.stats.byPath['/echo/7']).toBe(100)
  })

  it('answers 1,000 concurrent token requests and counts exactly 1,000', async () => {
    servers.auth.stats.reset()
    const statuses = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        tokenRequest().then(async (r) => {
          await r.arrayBuffer()
          return r.status
        }),
      ),
    )
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 1_000, tokensIssued: 1_000 })
    expect(servers.auth.stats.byClient['demo-client']).toBe(1_000)
  })

  it('closes idle keep-alive connections on close(), so it never hangs', async () => {
    const own = await startMockAuthServer()
    const agent = new Agent({ keepAlive: true })
    try {
      await new Promise<void>((resolve, reject) => {
        httpRequest(`${own.url}/jwks`, { agent }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
          .end()
      })
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1)
      await own.close() // would wait for the 65 s keep-alive timeout without closeAllConnections()
      expect(own.server.listening).toBe(false)
    } finally {
      agent.destroy()
    }
  })
})

describe('the README example, with core', () => {
  it('fetches one token for many concurrent callers', async () => {
    const own = await startMockAuthServer({ clients: [{ clientId: 'svc', clientSecret: 's3cret' }] })
    const ownApi = await startProtectedApi({ authServer: own })
    try {
      const provider = createTokenProvider({
        tokenEndpoint: own.tokenEndpoint,
        clientId: 'svc',
        clientSecret: 's3cret',
      })
      await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
      expect(own.stats.tokenRequests).toBe(1)
      const token = await provider.getToken()
      const res = await fetch(`${ownApi.url}/echo`, {
        headers: { authorization: `Bearer ${token.accessToken}` },
      })
      expect(res.status).toBe(200)

      own.failNext(1, { status: 503, headers: { 'retry-after': '0' } })
      const second = createTokenProvider({
        tokenEndpoint: own.tokenEndpoint,
        clientId: 'svc',
        clientSecret: 's3cret',
      })
      await second.getToken()
      expect(own.requests.slice(-2).map((r) => r.status)).toEqual([503, 200])
      await Promise.all([provider.close(), second.close()])
    } finally {
      await ownApi.close()
      await own.close()
    }
  })
})
