import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { discovery } from '../src/discovery/index.js'
import { metadataUrls } from '../src/discovery/metadata.js'
import {
  ConfigError,
  createTokenProvider,
  DiscoveryError,
  discoverAuthorizationServer,
  type TokenwellError,
} from '../src/index.js'

const issuer = 'https://as.test'

function serve(metadata: Record<string, unknown>, wellKnown = '/.well-known/oauth-authorization-server') {
  const hits = { metadata: 0, token: 0, forms: [] as URLSearchParams[], headers: [] as Headers[] }
  server.use(
    http.get(`${issuer}${wellKnown}`, () => {
      hits.metadata++
      return HttpResponse.json(metadata)
    }),
    http.post('https://as.test/oauth2/v1/token', async ({ request }) => {
      hits.token++
      hits.forms.push(new URLSearchParams(await request.text()))
      hits.headers.push(request.headers)
      return HttpResponse.json({ access_token: `t${hits.token}`, token_type: 'Bearer', expires_in: 300 })
    }),
  )
  return hits
}

const metadata = { issuer, token_endpoint: 'https://as.test/oauth2/v1/token' }

describe('discovery (RFC 8414 / OpenID Connect)', () => {
  it('reads the metadata once for 50 concurrent callers and asks the advertised token endpoint', async () => {
    const hits = serve(metadata)
    const provider = createTokenProvider({ discovery, issuer, clientId: 'c', clientSecret: 's' })
    expect(provider.keyInfo).toMatchObject({ tokenEndpoint: issuer, issuer })
    const tokens = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['t1']))
    expect(hits).toMatchObject({ metadata: 1, token: 1 })
    expect(provider.keyInfo.tokenEndpoint).toBe('https://as.test/oauth2/v1/token')
    await provider.getToken({ forceRefresh: true })
    expect(hits).toMatchObject({ metadata: 1, token: 2 })
  })

  it('falls back to /.well-known/openid-configuration when RFC 8414 metadata is absent', async () => {
    server.use(
      http.get(
        `${issuer}/.well-known/oauth-authorization-server`,
        () => new HttpResponse('no', { status: 404 }),
      ),
    )
    const hits = serve(metadata, '/.well-known/openid-configuration')
    await createTokenProvider({ discovery, issuer, clientId: 'c', clientSecret: 's' }).getToken()
    expect(hits).toMatchObject({ metadata: 1, token: 1 })
  })

  it('builds both well-known URLs for an issuer with a path (Keycloak realms)', () => {
    expect(metadataUrls('https://kc.test/realms/demo').map(String)).toEqual([
      'https://kc.test/.well-known/oauth-authorization-server/realms/demo',
      'https://kc.test/realms/demo/.well-known/openid-configuration',
    ])
    expect(metadataUrls('https://as.test/').map(String)).toEqual([
      'https://as.test/.well-known/oauth-authorization-server',
      'https://as.test/.well-known/openid-configuration',
    ])
  })

  it('refuses a document that names another issuer, and sends no token request', async () => {
    const hits = serve({ issuer: 'https://evil.test', token_endpoint: 'https://as.test/oauth2/v1/token' })
    const provider = createTokenProvider({
      discovery,
      issuer,
      clientId: 'c',
      clientSecret: 's',
      retry: false,
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(DiscoveryError)
    expect(error.code).toBe('ERR_DISCOVERY')
    expect(error.message).toMatch(/another issuer/)
    expect(hits.token).toBe(0)
  })

  it('forgives only a trailing slash in the issuer comparison', async () => {
    serve({ ...metadata, issuer: `${issuer}/` })
    await expect(discoverAuthorizationServer(issuer)).resolves.toMatchObject({
      token_endpoint: metadata.token_endpoint,
    })
  })

  it('rejects metadata without a usable token_endpoint', async () => {
    serve({ issuer, token_endpoint: 'http://as.test/token' })
    await expect(discoverAuthorizationServer(issuer)).rejects.toMatchObject({
      code: 'ERR_DISCOVERY',
      message: expect.stringMatching(/no usable token_endpoint/),
    })
  })

  it('reports a server without metadata as DiscoveryError, and tries again on the next call', async () => {
    let fail = true
    const hits = serve(metadata)
    server.use(
      http.get(`${issuer}/.well-known/*`, () =>
        fail ? new HttpResponse('<html>', { status: 500 }) : undefined,
      ),
    )
    const provider = createTokenProvider({
      discovery,
      issuer,
      clientId: 'c',
      clientSecret: 's',
      retry: false,
      failureCooldown: 0,
    })
    await expect(provider.getToken()).rejects.toBeInstanceOf(DiscoveryError)
    fail = false
    await expect(provider.getToken()).resolves.toMatchObject({ accessToken: 't1' })
    expect(hits.metadata).toBe(1)
  })

  it('switches a default client_secret_basic to client_secret_post when the server advertises only that', async () => {
    const hits = serve({
      ...metadata,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
    })
    await createTokenProvider({ discovery, issuer, clientId: 'c', clientSecret: 's' }).getToken()
    expect(hits.headers[0]!.get('authorization')).toBeNull()
    expect(hits.forms[0]!.get('client_secret')).toBe('s')
  })

  it('keeps an explicit clientAuth the server does not advertise, with a warning', async () => {
    const hits = serve({ ...metadata, token_endpoint_auth_methods_supported: ['client_secret_post'] })
    const warn = vi.fn()
    await createTokenProvider({
      discovery,
      issuer,
      clientId: 'c',
      clientSecret: 's',
      clientAuth: 'client_secret_basic',
      logger: { warn },
    }).getToken()
    expect(hits.headers[0]!.get('authorization')).toMatch(/^Basic /)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/does not advertise/), expect.anything())
  })

  it('needs exactly one of tokenEndpoint and issuer', () => {
    expect(() => createTokenProvider({ clientId: 'c', clientSecret: 's' })).toThrow(ConfigError)
    expect(() =>
      createTokenProvider({
        discovery,
        issuer,
        tokenEndpoint: `${issuer}/token`,
        clientId: 'c',
        clientSecret: 's',
      }),
    ).toThrow(/exactly one of tokenEndpoint or issuer/)
    expect(() =>
      createTokenProvider({ discovery, issuer: `${issuer}?tenant=1`, clientId: 'c', clientSecret: 's' }),
    ).toThrow(/issuer must not contain a query/)
    expect(() =>
      createTokenProvider({ discovery, issuer: 'http://as.test', clientId: 'c', clientSecret: 's' }),
    ).toThrow(/issuer must be https/)
  })

  it('gives providers of two issuers different cache keys in a shared store', async () => {
    serve(metadata)
    const other = 'https://other.test'
    server.use(
      http.get(`${other}/.well-known/oauth-authorization-server`, () =>
        HttpResponse.json({ issuer: other, token_endpoint: `${other}/token` }),
      ),
      http.post(`${other}/token`, () => HttpResponse.json({ access_token: 'other', expires_in: 300 })),
    )
    const keys: string[] = []
    const store = {
      get: async () => undefined,
      set: async (key: string) => void keys.push(key),
      delete: async () => {},
    }
    await createTokenProvider({ discovery, issuer, clientId: 'c', clientSecret: 's', store }).getToken()
    await createTokenProvider({
      discovery,
      issuer: other,
      clientId: 'c',
      clientSecret: 's',
      store,
    }).getToken()
    expect(keys).toHaveLength(2)
    expect(keys[0]).not.toBe(keys[1])
  })
})
