import { createTokenProvider } from '@tokenwell/core'
import { describe, expect, it } from 'vitest'
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
})
