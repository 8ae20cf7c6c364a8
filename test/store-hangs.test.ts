import { createMemoryTokenStore, createTokenProvider, type TokenStore } from '@tokenwell/core'
import { describe, expect, it } from 'vitest'
import { useServers } from './support/servers.js'

const servers = useServers()
const never = () => new Promise<never>(() => {})

describe("a store call that never settles (a store of the caller's own)", () => {
  it.each(['get', 'set', 'acquireLease', 'waitForEntry', 'getRefreshToken', 'compareAndDelete'] as const)(
    '%s hangs: getToken() still settles',
    async (operation) => {
      const memory = createMemoryTokenStore()
      const store: TokenStore = { ...memory, [operation]: never }
      const provider = createTokenProvider({
        tokenEndpoint: servers.auth.tokenEndpoint,
        clientId: 'demo-client',
        clientSecret: 'demo-secret',
        retry: false,
        failureCooldown: 0,
        timeout: 500,
        lockTtl: 500, // a hanging store call has failed after lockTtl + timeout
        store,
      })
      const first = await Promise.race([
        provider.getToken().then(
          () => 'token',
          () => 'error',
        ),
        new Promise((resolve) => setTimeout(resolve, 3000, 'still waiting after 3 s')),
      ])
      const token = first === 'token' ? await provider.getToken() : undefined
      const second = await Promise.race([
        (token ? provider.invalidate(token).then(() => provider.getToken()) : Promise.resolve()).then(
          () => 'token',
          () => 'error',
        ),
        new Promise((resolve) => setTimeout(resolve, 3000, 'still waiting after 3 s')),
      ])
      await provider.close()
      expect([first, second]).toEqual(['token', 'token'])
    },
    15_000,
  )
})
