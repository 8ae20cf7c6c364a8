import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'

export interface Servers {
  auth: RunningMockAuthServer
  /** The protected API the clients are for. */
  api: RunningProtectedApi
  /** A second loopback origin (a redirect target, a "presigned storage URL"). */
  other: RunningProtectedApi
  /** A fresh provider per test (cold cache), without token-request retries or cooldown so counts are exact. */
  provider: TokenProvider
}

/** Starts the servers once per file, resets their counters and makes a new provider for every test. */
export function useServers(): Servers {
  const servers = {} as Servers
  beforeAll(async () => {
    servers.auth = await startMockAuthServer()
    servers.api = await startProtectedApi({ authServer: servers.auth })
    servers.other = await startProtectedApi({ authServer: servers.auth })
  })
  afterAll(async () => {
    await Promise.all([servers.api?.close(), servers.other?.close(), servers.auth?.close()])
  })
  beforeEach(() => {
    const { auth, api, other } = servers
    for (const stats of [auth.stats, api.stats, other.stats]) stats.reset()
    auth.setLatency(0)
    servers.provider = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      retry: false,
      failureCooldown: 0,
    })
  })
  afterEach(async () => {
    await servers.provider.close()
  })
  return servers
}
