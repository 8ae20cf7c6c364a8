import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../src/adapter/index.js'
import { discovery } from '../src/discovery/index.js'
import {
  ConfigError,
  createTokenProvider,
  DiscoveryError,
  discoverProtectedResource,
  protectedResourceMetadataUrl,
  resourceMetadataFromChallenges,
  type TokenwellError,
} from '../src/index.js'

const resource = 'https://api.test/mcp'
const issuer = 'https://as.test'

function serve(document: Record<string, unknown>, path = '/.well-known/oauth-protected-resource/mcp') {
  const hits = { resource: 0, metadata: 0, token: 0, forms: [] as URLSearchParams[] }
  server.use(
    http.get(`https://api.test${path}`, () => {
      hits.resource++
      return HttpResponse.json(document)
    }),
    http.get(`${issuer}/.well-known/oauth-authorization-server`, () => {
      hits.metadata++
      return HttpResponse.json({ issuer, token_endpoint: `${issuer}/token` })
    }),
    http.get('https://other-as.test/.well-known/oauth-authorization-server', () => {
      hits.metadata++
      return HttpResponse.json({ issuer: 'https://other-as.test', token_endpoint: 'https://other-as.test/t' })
    }),
    http.post(/\/(token|t)$/, async ({ request }) => {
      hits.token++
      hits.forms.push(new URLSearchParams(await request.text()))
      return HttpResponse.json({ access_token: `t${hits.token}`, token_type: 'Bearer', expires_in: 300 })
    }),
  )
  return hits
}

const provider = (extra: Record<string, unknown> = {}) =>
  createTokenProvider({
    discovery,
    protectedResource: resource,
    clientId: 'c',
    clientSecret: 's',
    retry: false,
    ...extra,
  })

describe('protected resource metadata (RFC 9728)', () => {
  it('derives the well-known URL by inserting the suffix before the path, keeping the query', () => {
    expect(protectedResourceMetadataUrl('https://api.test/mcp').href).toBe(
      'https://api.test/.well-known/oauth-protected-resource/mcp',
    )
    expect(protectedResourceMetadataUrl('https://api.test').href).toBe(
      'https://api.test/.well-known/oauth-protected-resource',
    )
    expect(protectedResourceMetadataUrl('https://api.test/a/b?x=1').href).toBe(
      'https://api.test/.well-known/oauth-protected-resource/a/b?x=1',
    )
  })

  it('reads the resource metadata and the server metadata once for 50 callers, and asks for the resource', async () => {
    const hits = serve({ resource, authorization_servers: [issuer] })
    const p = provider()
    const tokens = await Promise.all(Array.from({ length: 50 }, () => p.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['t1']))
    expect(hits).toMatchObject({ resource: 1, metadata: 1, token: 1 })
    expect(hits.forms[0]!.getAll('resource')).toEqual([resource])
    expect(p.keyInfo).toMatchObject({ tokenEndpoint: `${issuer}/token`, resource: [resource] })
    await p.getToken({ forceRefresh: true })
    expect(hits).toMatchObject({ resource: 1, metadata: 1, token: 2 })
  })

  it('takes the first authorization server, or the one equal to issuer', async () => {
    const hits = serve({ resource, authorization_servers: ['https://other-as.test', issuer] })
    await provider().getToken()
    expect(hits.forms.length).toBe(1)
    await provider({ issuer }).getToken()
    expect(hits.token).toBe(2)
    const error = (await provider({ issuer: 'https://third.test' })
      .getToken()
      .catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(DiscoveryError)
    expect(error.code).toBe('ERR_DISCOVERY')
    expect(hits.token).toBe(2)
  })

  it.each([
    ['names another resource', { resource: 'https://api.test/other', authorization_servers: [issuer] }],
    ['names no resource', { authorization_servers: [issuer] }],
    ['names no authorization server', { resource }],
    ['has an empty list of servers', { resource, authorization_servers: [] }],
    ['has a malformed list', { resource, authorization_servers: issuer }],
    ['lists a plain-http server', { resource, authorization_servers: ['http://as.example'] }],
  ])('fails with DiscoveryError and asks no token endpoint when the document %s', async (_, document) => {
    const hits = serve(document)
    const error = (await provider()
      .getToken()
      .catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(DiscoveryError)
    expect(error.code).toBe('ERR_DISCOVERY')
    expect(hits.token).toBe(0)
  })

  it('fails with DiscoveryError when the metadata is missing, and tries again on the next call', async () => {
    server.use(http.get('https://api.test/*', () => new HttpResponse('no', { status: 404 })))
    const p = provider({ failureCooldown: 0 })
    await expect(p.getToken()).rejects.toBeInstanceOf(DiscoveryError)
    const hits = serve({ resource, authorization_servers: [issuer] })
    expect((await p.getToken()).accessToken).toBe('t1')
    expect(hits.resource).toBe(1)
  })

  it('refuses a resource_metadata URL on another origin than the resource, without reading it', async () => {
    let read = 0
    server.use(
      http.get('https://evil.test/*', () => {
        read++
        return HttpResponse.json({ resource, authorization_servers: ['https://evil.test'] })
      }),
    )
    const error = (await discoverProtectedResource({
      resource,
      resourceMetadata: 'https://evil.test/.well-known/oauth-protected-resource/mcp',
    }).catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(DiscoveryError)
    expect(read).toBe(0)
    // without an expected resource, the document must name one on the metadata URL's origin
    server.use(
      http.get('https://api.test/meta', () =>
        HttpResponse.json({ resource: 'https://evil.test/mcp', authorization_servers: [issuer] }),
      ),
    )
    await expect(
      discoverProtectedResource({ resourceMetadata: 'https://api.test/meta' }),
    ).rejects.toBeInstanceOf(DiscoveryError)
  })

  it('reads a same-origin resource_metadata URL from a challenge', async () => {
    serve({ resource, authorization_servers: [issuer] }, '/meta')
    const header = `Bearer realm="x", resource_metadata="https://api.test/meta", DPoP resource_metadata="https://evil.test/m"`
    const url = resourceMetadataFromChallenges(parseWwwAuthenticate(header), 'https://api.test/mcp/tools')
    expect(url?.href).toBe('https://api.test/meta')
    const metadata = await discoverProtectedResource({ resourceMetadata: url!, resource })
    expect(metadata.authorization_servers).toEqual([issuer])
    const evilOnly = parseWwwAuthenticate('Bearer resource_metadata="https://evil.test/m"')
    expect(resourceMetadataFromChallenges(evilOnly, 'https://api.test/mcp')).toBeUndefined()
    expect(
      resourceMetadataFromChallenges(parseWwwAuthenticate('Basic realm="x"'), 'https://api.test'),
    ).toBeUndefined()
  })

  it('checks the options at once: one of tokenEndpoint, issuer or protectedResource; https', () => {
    expect(() =>
      createTokenProvider({
        discovery,
        protectedResource: resource,
        tokenEndpoint: `${issuer}/token`,
        clientId: 'c',
        clientSecret: 's',
      }),
    ).toThrow(ConfigError)
    expect(() =>
      createTokenProvider({
        discovery,
        protectedResource: 'http://api.example/mcp',
        clientId: 'c',
        clientSecret: 's',
      }),
    ).toThrow(/protectedResource must be https/)
    expect(() =>
      createTokenProvider({
        discovery,
        protectedResource: 'https://api.test/#x',
        clientId: 'c',
        clientSecret: 's',
      }),
    ).toThrow(/fragment/)
  })

  it('does not add the resource twice when resource already names it', async () => {
    const hits = serve({ resource, authorization_servers: [issuer] })
    await provider({ resource: [resource, 'https://api.test/other'] }).getToken()
    expect(hits.forms[0]!.getAll('resource')).toEqual([resource, 'https://api.test/other'])
  })
})
