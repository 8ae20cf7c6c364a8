import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  type StartProtectedApiOptions,
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

/**
 * Starts the mock authorization server and one protected API per entry of `apis` (its options,
 * the authorization server given) once per file, and closes them after it. Read the servers in
 * hooks and tests: they exist once `beforeAll` has run.
 */
export function useMockServers<Name extends string>(
  apis: Record<Name, Omit<StartProtectedApiOptions, 'authServer'>>,
): { auth: RunningMockAuthServer } & Record<Name, RunningProtectedApi> {
  const servers = {} as { auth: RunningMockAuthServer } & Record<Name, RunningProtectedApi>
  const started: { close(): Promise<void> }[] = []
  beforeAll(async () => {
    servers.auth = await startMockAuthServer()
    started.push(servers.auth)
    for (const [name, options] of Object.entries(apis) as [Name, StartProtectedApiOptions][]) {
      const api = await startProtectedApi({ ...options, authServer: servers.auth })
      ;(servers as Record<Name, RunningProtectedApi>)[name] = api
      started.push(api)
    }
  })
  afterAll(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()))
  })
  return servers
}

/** Starts the servers once per file, resets their counters and makes a new provider for every test. */
export function useServers(): Servers {
  const servers = useMockServers({ api: {}, other: {} }) as Servers
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

/**
 * A refresh token from the mock server's password grant (alice, the demo client), to start a
 * rotating family with; with `scope`, granted for it.
 */
export async function firstRefreshToken(tokenEndpoint: string, scope?: string): Promise<string> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa('demo-client:demo-secret')}` },
    body: new URLSearchParams({
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password',
      ...(scope !== undefined && { scope }),
    }),
  })
  return ((await response.json()) as { refresh_token: string }).refresh_token
}
