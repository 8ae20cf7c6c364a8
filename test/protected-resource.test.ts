import {
  createTokenProvider,
  DiscoveryError,
  discoverProtectedResource,
  resourceMetadataFromChallenges,
} from '@tokenwell/core'
import { parseWwwAuthenticate } from '@tokenwell/core/adapter'
import { discovery } from '@tokenwell/core/discovery'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// RFC 9728 end to end over loopback: the provider knows only the resource and its client credentials.
let auth: RunningMockAuthServer
let api: RunningProtectedApi
let resource: string
const METADATA = '/.well-known/oauth-protected-resource/mcp'

beforeAll(async () => {
  auth = await startMockAuthServer()
  api = await startProtectedApi({ authServer: auth, advertiseResourceMetadata: true, resourcePath: '/mcp' })
  resource = `${api.url}/mcp`
})
afterAll(async () => {
  await api?.close()
  await auth?.close()
})

describe('protected resource metadata against the mock servers (RFC 9728)', () => {
  it('finds the authorization server from the resource: one metadata read each, one token request for 100 callers', async () => {
    auth.stats.reset()
    api.stats.reset()
    const provider = createTokenProvider({
      discovery,
      protectedResource: resource,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
    })
    const tokens = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(api.stats.byPath[METADATA]).toBe(1)
    expect(auth.stats.tokenRequests).toBe(1)
    expect(auth.requests[0]!.params.resource).toBe(resource)
    expect(provider.keyInfo).toMatchObject({ tokenEndpoint: auth.tokenEndpoint, resource: [resource] })
    // the token is for the resource, and the API accepts it
    expect(await auth.verifyAccessToken(tokens[0]!.accessToken)).toMatchObject({ aud: resource })
    const response = await fetch(`${api.url}/echo`, {
      headers: { authorization: `Bearer ${tokens[0]!.accessToken}` },
    })
    expect(await response.json()).toMatchObject({ authorized: true, clientId: 'demo-client' })
  })

  it('follows a same-origin resource_metadata URL from a 401 challenge to the same server', async () => {
    const challenged = await fetch(`${api.url}/echo`)
    expect(challenged.status).toBe(401)
    const url = resourceMetadataFromChallenges(
      parseWwwAuthenticate(challenged.headers.get('www-authenticate')),
      challenged.url,
    )
    expect(url?.href).toBe(`${api.url}${METADATA}`)
    const metadata = await discoverProtectedResource({ resourceMetadata: url!, resource })
    expect(metadata.authorization_servers).toEqual([auth.issuer])
  })

  it('fails with DiscoveryError, and sends no token request, when the resource is not the one published', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({
      discovery,
      protectedResource: `${api.url}/mcp`,
      issuer: 'http://127.0.0.1:1/other',
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      retry: false,
    })
    await expect(provider.getToken()).rejects.toBeInstanceOf(DiscoveryError)
    const impostor = await startProtectedApi({
      authServer: auth,
      resourceMetadata: { resource: `${api.url}/mcp` },
    })
    try {
      const other = createTokenProvider({
        discovery,
        protectedResource: `${impostor.url}/mcp`,
        clientId: 'demo-client',
        clientSecret: 'demo-secret',
        retry: false,
      })
      const error = await other.getToken().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DiscoveryError)
      expect((error as DiscoveryError).code).toBe('ERR_DISCOVERY')
    } finally {
      await impostor.close()
    }
    expect(auth.stats.tokenRequests).toBe(0)
  })
})
