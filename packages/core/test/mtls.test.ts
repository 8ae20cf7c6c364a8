import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { discovery } from '../src/discovery/index.js'
import { buildTokenRequest, ConfigError, createTokenProvider, DiscoveryError } from '../src/index.js'
import { resolveOptions } from '../src/provider/resolve-options.js'
import { revocation } from '../src/revocation/index.js'

// The TLS handshake itself is tested in test/mtls.test.ts (real certificates, no msw).
const issuer = 'https://as.test'
const metadata = {
  issuer,
  token_endpoint: `${issuer}/token`,
  revocation_endpoint: `${issuer}/revoke`,
  mtls_endpoint_aliases: {
    token_endpoint: 'https://mtls.as.test/token',
    revocation_endpoint: 'https://mtls.as.test/revoke',
  },
}

function serve(document: Record<string, unknown> = metadata) {
  const hits: string[] = []
  const forms: URLSearchParams[] = []
  server.use(
    http.get(`${issuer}/.well-known/oauth-authorization-server`, () => HttpResponse.json(document)),
    http.post(/^https:\/\/(mtls\.)?as\.test\/(token|revoke)$/, async ({ request }) => {
      hits.push(request.url)
      forms.push(new URLSearchParams(await request.text()))
      if (request.headers.has('authorization')) throw new Error('no Authorization header expected')
      return request.url.endsWith('/revoke')
        ? new HttpResponse(null, { status: 200 })
        : HttpResponse.json({ access_token: 'at', token_type: 'Bearer', expires_in: 300 })
    }),
  )
  return { hits, forms }
}

describe.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)(
  'clientAuth %s (RFC 8705)',
  (clientAuth) => {
    it('sends client_id in the body and no secret, and needs none', () => {
      const options = resolveOptions({ tokenEndpoint: `${issuer}/token`, clientId: 'svc', clientAuth })
      expect(options.clientSecret).toBeUndefined()
      const request = buildTokenRequest(options, { grant_type: 'client_credentials' })
      expect(request.headers.get('authorization')).toBeNull()
      return request.text().then((body) => {
        expect(Object.fromEntries(new URLSearchParams(body))).toEqual({
          grant_type: 'client_credentials',
          client_id: 'svc',
        })
      })
    })

    it('drops a client secret it was given (it is never sent)', () => {
      const options = resolveOptions({
        tokenEndpoint: `${issuer}/token`,
        clientId: 'svc',
        clientSecret: 's',
        clientAuth,
      })
      expect(options.clientSecret).toBeUndefined()
    })

    it('asks the mtls_endpoint_aliases token and revocation endpoints of discovered metadata', async () => {
      const { hits, forms } = serve()
      const provider = createTokenProvider({ revocation, discovery, issuer, clientId: 'svc', clientAuth })
      await provider.getToken()
      expect(provider.keyInfo.tokenEndpoint).toBe('https://mtls.as.test/token')
      await provider.revoke()
      expect(hits).toEqual(['https://mtls.as.test/token', 'https://mtls.as.test/revoke'])
      expect(forms.map((form) => form.get('client_id'))).toEqual(['svc', 'svc'])
    })

    it('falls back to the plain endpoints without aliases, and refuses a plain-http alias', async () => {
      const { hits } = serve({ issuer, token_endpoint: `${issuer}/token` })
      await createTokenProvider({ revocation, discovery, issuer, clientId: 'svc', clientAuth }).getToken()
      expect(hits).toEqual([`${issuer}/token`])
      serve({ ...metadata, mtls_endpoint_aliases: { token_endpoint: 'http://mtls.example/token' } })
      const error = await createTokenProvider({
        revocation,
        discovery,
        issuer,
        clientId: 'svc',
        clientAuth,
        retry: false,
      })
        .getToken()
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DiscoveryError)
    })
  },
)

describe('mtls_endpoint_aliases for other clients', () => {
  it('are not used by a client that authenticates with a secret', async () => {
    const hits: string[] = []
    server.use(
      http.get(`${issuer}/.well-known/oauth-authorization-server`, () => HttpResponse.json(metadata)),
      http.post(/^https:\/\/(mtls\.)?as\.test\/token$/, ({ request }) => {
        hits.push(request.url)
        return HttpResponse.json({ access_token: 'at', token_type: 'Bearer', expires_in: 300 })
      }),
    )
    await createTokenProvider({
      revocation,
      discovery,
      issuer,
      clientId: 'svc',
      clientSecret: 's',
    }).getToken()
    expect(hits).toEqual([`${issuer}/token`])
  })

  it('an unknown clientAuth still names the list, tls methods included', () => {
    expect(() =>
      resolveOptions({ tokenEndpoint: `${issuer}/token`, clientId: 'svc', clientAuth: 'mtls' as never }),
    ).toThrow(ConfigError)
    expect(() =>
      resolveOptions({ tokenEndpoint: `${issuer}/token`, clientId: 'svc', clientAuth: 'mtls' as never }),
    ).toThrow(/tls_client_auth, self_signed_tls_client_auth/)
  })
})
