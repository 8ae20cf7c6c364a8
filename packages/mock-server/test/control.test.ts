import { server } from '@tokenwell/mock-server/msw'
import { http, passthrough } from 'msw'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMockAuthServer, type RunningMockAuthServer, startMockAuthServer } from '../src/index.js'
import { demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const control = (
  auth: { handle(r: Request): Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  auth.handle(
    new Request(`${issuer}/_control/${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }),
  )
const clientCredentials = (auth: ReturnType<typeof createMockAuthServer>) =>
  postToken(auth, { grant_type: 'client_credentials' }, demoBasic)

describe('control actions over HTTP', () => {
  it('GET stats answers the counters and the redacted request log', async () => {
    const auth = createMockAuthServer({ issuer })
    await clientCredentials(auth)
    const res = await control(auth, 'GET', 'stats')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { stats: { tokenRequests: number }; requests: unknown[] }
    expect(body.stats.tokenRequests).toBe(1)
    expect(body.requests).toHaveLength(1)
    expect(JSON.stringify(body)).not.toContain('demo-secret')
  })

  it('POST revoke-all revokes every token issued so far', async () => {
    const auth = createMockAuthServer({ issuer })
    const { body } = await clientCredentials(auth)
    expect(await auth.verifyAccessToken(body['access_token'] as string)).toBeDefined()
    expect((await control(auth, 'POST', 'revoke-all')).status).toBe(200)
    expect(await auth.verifyAccessToken(body['access_token'] as string)).toBeUndefined()
  })

  it('POST faults fails the next n token requests as asked; DELETE faults ends the outage', async () => {
    const auth = createMockAuthServer({ issuer })
    await control(auth, 'POST', 'faults', { count: 2, status: 503, headers: { 'retry-after': '1' } })
    expect((await clientCredentials(auth)).status).toBe(503)
    await control(auth, 'DELETE', 'faults')
    expect((await clientCredentials(auth)).status).toBe(200)
    expect(auth.stats.byError['fault']).toBe(1)
  })

  it('PUT token-lifetime and latency change what later tokens get; POST reset puts the options back', async () => {
    const auth = createMockAuthServer({ issuer, tokenLifetime: 300 })
    await control(auth, 'PUT', 'token-lifetime', { seconds: 7 })
    await control(auth, 'PUT', 'latency', { ms: 1 })
    expect((await clientCredentials(auth)).body['expires_in']).toBe(7)
    const reset = await control(auth, 'POST', 'reset')
    expect(reset.status).toBe(200)
    expect(auth.stats.tokenRequests).toBe(0)
    expect((await clientCredentials(auth)).body['expires_in']).toBe(300)
  })

  it.each([
    ['PUT', 'latency', { ms: -1 }, 400, 'latency must be a finite number >= 0'],
    ['PUT', 'token-lifetime', '{not json', 400, 'the body must be a JSON object'],
    ['POST', 'faults', [1], 400, 'the body must be a JSON object'],
    ['GET', 'revoke-all', undefined, 404, 'no control action here'],
  ])('%s %s with %o → %i (%s)', async (method, path, body, status, description) => {
    const auth = createMockAuthServer({ issuer })
    const res = await control(auth, method, path, method === 'GET' ? undefined : body)
    expect(res.status).toBe(status)
    expect(((await res.json()) as { error_description: string }).error_description).toContain(description)
  })

  it('CORS admits a page on another loopback origin, preflight included', async () => {
    const auth = createMockAuthServer({ issuer })
    const origin = 'http://127.0.0.1:5173'
    const preflight = await control(auth, 'OPTIONS', 'revoke-all', undefined, {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type')
    const res = await control(auth, 'GET', 'stats', undefined, { origin: 'http://localhost:3000' })
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
  })

  it('refuses any other origin (403, no CORS headers, nothing done): a web page cannot drive it', async () => {
    const auth = createMockAuthServer({ issuer })
    const { body } = await clientCredentials(auth)
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null']) {
      const res = await control(auth, 'POST', 'revoke-all', undefined, { origin })
      expect(res.status).toBe(403)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
    expect(await auth.verifyAccessToken(body['access_token'] as string)).toBeDefined()
  })
})

describe('control over loopback HTTP', () => {
  let auth: RunningMockAuthServer
  beforeAll(async () => {
    auth = await startMockAuthServer()
  })
  afterAll(() => auth?.close())
  beforeEach(() => {
    server.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()))
  })

  it('another process drives the running server with plain fetch', async () => {
    const res = await fetch(`${auth.url}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, status: 500 }),
    })
    expect(res.status).toBe(200)
    const token = await fetch(auth.tokenEndpoint, {
      method: 'POST',
      headers: demoBasic,
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    expect(token.status).toBe(500)
  })
})
