import {
  createTokenProvider,
  DiscoveryError,
  discoverProtectedResource,
  resourceMetadataFromChallenges,
} from '@tokenwell/core'
import { parseWwwAuthenticate } from '@tokenwell/core/adapter'
import { discovery } from '@tokenwell/core/discovery'
import { startProtectedApi } from '@tokenwell/mock-server'
import { beforeAll, describe, expect, it } from 'vitest'
import { useMockServers } from './support/servers.js'

// RFC 9728 end to end over loopback: the provider knows only the resource and its client credentials.
const servers = useMockServers({ api: { advertiseResourceMetadata: true, resourcePath: '/mcp' } })
let resource: string
beforeAll(() => {
  resource = `${servers.api.url}/mcp`
})
const METADATA = '/.well-known/oauth-protected-resource/mcp'

describe('protected resource metadata against the mock servers (RFC 9728)', () => {
  it('finds the authorization server from the resource: one metadata read each, one token request for 100 callers', async () => {
    servers.auth.stats.reset()
    servers.api.stats.reset()
    const provider = createTokenProvider({
      discovery,
      protectedResource: resource,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
    })
    const tokens = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(servers.api.stats.byPath[METADATA]).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.auth.requests[0]!.params.resource).toBe(resource)
    expect(provider.keyInfo).toMatchObject({
      tokenEndpoint: servers.auth.tokenEndpoint,
      resource: [resource],
    })
    // the token is for the resource, and the API accepts it
    expect(await servers.auth.verifyAccessToken(tokens[0]!.accessToken)).toMatchObject({ aud: resource })
    const response = await fetch(`${servers.api.url}/echo`, {
      headers: { authorization: `Bearer ${tokens[0]!.accessToken}` },
    })
    expect(await response.json()).toMatchObject({ authorized: true, clientId: 'demo-client' })
  })

  it('follows a same-origin resource_metadata URL from a 401 challenge to the same server', async () => {
    const challenged = await fetch(`${servers.api.url}/echo`)
    expect(challenged.status).toBe(401)
    const url = resourceMetadataFromChallenges(
      parseWwwAuthenticate(challenged.headers.get('www-authenticate')),
      challenged.url,
    )
    expect(url?.href).toBe(`${servers.api.url}${METADATA}`)
    const metadata = await discoverProtectedResource({ resourceMetadata: url!, resource })
    expect(metadata.authorization_servers).toEqual([servers.auth.issuer])
  })

  it('fails with DiscoveryError, and sends no token request, when the resource is not the one published', async () => {
    servers.auth.stats.reset()
    const provider = createTokenProvider({
      discovery,
      protectedResource: `${servers.api.url}/mcp`,
      issuer: 'http://127.0.0.1:1/other',
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      retry: false,
    })
    await expect(provider.getToken()).rejects.toBeInstanceOf(DiscoveryError)
    const impostor = await startProtectedApi({
      authServer: servers.auth,
      resourceMetadata: { resource: `${servers.api.url}/mcp` },
    })
    try {
      const misled = createTokenProvider({
        discovery,
        protectedResource: `${impostor.url}/mcp`,
        clientId: 'demo-client',
        clientSecret: 'demo-secret',
        retry: false,
      })
      const error = await misled.getToken().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DiscoveryError)
      expect((error as DiscoveryError).code).toBe('ERR_DISCOVERY')
    } finally {
      await impostor.close()
    }
    expect(servers.auth.stats.tokenRequests).toBe(0)
  })
})
