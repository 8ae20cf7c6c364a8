import { createTokenProvider } from '@tokenwell/core'
import { describe, expect, it } from 'vitest'
import { countWaits } from '../bench/src/subjects.js'
import { harnesses } from './support/adapters.js'
import { useServers } from './support/servers.js'

// The expiry case of the adapter contract, for every column of the table: a token past its
// lifetime (on the provider's clock) is replaced once, however many requests find it expired.
describe.each(harnesses)('$name adapter: token expiry', (harness) => {
  const servers = useServers()

  it('a token past expiry: 200 concurrent requests cause exactly 1 new token request, each sent once', async () => {
    let now = Date.now()
    const provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      retry: false,
      clock: () => now,
    })
    const client = harness.create(provider, servers.api.url)
    try {
      expect((await client.send('GET', '/echo/first')).status).toBe(200)
      expect(servers.auth.stats.tokenRequests).toBe(1)
      now += 301_000 // the mock server's tokens live 300 s
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, (_, i) => client.send('GET', `/echo/expired/${i}`)),
      )
      expect(outcomes.filter((o) => o.status !== 200)).toEqual([])
      expect(servers.auth.stats.tokenRequests).toBe(2)
      expect(servers.api.stats.unauthorized).toBe(0)
      expect(servers.api.stats.requests).toBe(201)
    } finally {
      client.close()
      await provider.close()
    }
  })

  it('2 s tokens (JWTs: exp in whole seconds), a 300 ms token endpoint, 4 s of steady load: no 401, no wait, no failure', async () => {
    servers.auth.setTokenLifetime(2)
    servers.auth.setLatency(300)
    // a wait is a call that found no token it could use, as the bench counts it
    const counted = countWaits(servers.provider)
    const client = harness.create(counted.provider, servers.api.url)
    try {
      expect((await client.send('GET', '/echo/warm')).status).toBe(200)
      const warm = counted.waits()
      servers.auth.stats.reset()
      servers.api.stats.reset()
      const end = Date.now() + 4_000
      let failed = 0
      const worker = async () => {
        for (; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 5)))
          if ((await client.send('GET', '/echo/load')).status !== 200) failed++
      }
      await Promise.all(Array.from({ length: 8 }, worker))
      const waits = counted.waits() - warm
      expect({ unauthorized: servers.api.stats.unauthorized, waits, failed }).toEqual({
        unauthorized: 0,
        waits: 0,
        failed: 0,
      })
      expect(servers.auth.stats.tokenRequests).toBeGreaterThanOrEqual(2)
      expect(servers.api.stats.requests).toBeGreaterThan(400)
    } finally {
      client.close()
      servers.auth.setTokenLifetime(300)
    }
  }, 20_000)
})
