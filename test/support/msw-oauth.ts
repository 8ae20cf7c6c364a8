// Behind msw (unit tests): a fake authorization server and API shared by the three adapters' tests.
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'
import { mockAuthHandlers, mockProtectedApiHandlers, server } from '@tokenwell/mock-server/msw'
import { delay, HttpResponse, http } from 'msw'

/** What the fake API saw of one request. */
export interface Seen {
  path: string
  method: string
  authorization: string | null
  contentType: string | null
  body: string
}

/**
 * An authorization server at https://as.test issuing t1, t2 … and a protected API at
 * https://api.test refusing tokens it did not issue or that were revoked. `/always-401` and `/insufficient-scope` refuse.
 */
export function fakeOAuth(options: { tokenLatency?: number } = {}) {
  const live = new Set<string>()
  const seen: Seen[] = []
  let tokenRequests = 0
  server.use(
    http.post('https://as.test/token', async () => {
      const token = `t${++tokenRequests}`
      if (options.tokenLatency) await delay(options.tokenLatency)
      live.add(token)
      return HttpResponse.json({ access_token: token, token_type: 'Bearer', expires_in: 300 })
    }),
    http.all('https://api.test/*', async ({ request }) => {
      const path = new URL(request.url).pathname
      const authorization = request.headers.get('authorization')
      const body = Buffer.from(await request.arrayBuffer()).toString('latin1')
      seen.push({
        path,
        method: request.method,
        authorization,
        contentType: request.headers.get('content-type'),
        body,
      })
      const invalid = {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' },
      }
      if (path === '/insufficient-scope') {
        return HttpResponse.json(
          { error: 'insufficient_scope' },
          {
            status: 401,
            headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="admin"' },
          },
        )
      }
      if (path === '/always-401') return HttpResponse.json({ error: 'invalid_token' }, invalid)
      // no token, or credentials that are not ours: answered, so tests can see what was sent
      if (!/^Bearer t\d+$/.test(authorization ?? '')) return HttpResponse.json({ foreign: true })
      if (!live.has(String(authorization).replace(/^Bearer /, '')))
        return HttpResponse.json({ error: 'invalid_token' }, invalid)
      return HttpResponse.json({ ok: true, path })
    }),
  )
  const provider: TokenProvider = createTokenProvider({
    tokenEndpoint: 'https://as.test/token',
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    retry: false,
    failureCooldown: 0,
  })
  return {
    provider,
    seen,
    tokenRequests: () => tokenRequests,
    /** Every token issued so far is refused from now on. */
    revokeAll: () => live.clear(),
    sentTo: (path: string) => seen.filter((s) => s.path === path),
  }
}

/**
 * The mock authorization server (DPoP-capable) at https://dpop-as.test and its protected API at
 * https://dpop-api.test, behind msw: they verify DPoP proofs for real (RFC 9449).
 */
export function dpopOAuth(options: { dpopNonce?: boolean } = {}) {
  const auth = mockAuthHandlers({ baseUrl: 'https://dpop-as.test' })
  const api = mockProtectedApiHandlers({
    baseUrl: 'https://dpop-api.test',
    authServer: auth.authServer,
    dpopNonce: options.dpopNonce === true,
  })
  server.use(...auth, ...api)
  const provider = createTokenProvider({
    tokenEndpoint: 'https://dpop-as.test/token',
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    dpop: createDpop(),
    retry: false,
  })
  return { provider, auth: auth.authServer, api: api.api }
}
