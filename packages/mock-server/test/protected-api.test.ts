import { describe, expect, it } from 'vitest'
import { createMockAuthServer, createProtectedApi } from '../src/index.js'
import { demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const apiUrl = 'https://api.test'

async function setup(options: { requiredScope?: string; audience?: string } = {}) {
  let now = 1_700_000_000_000
  const auth = createMockAuthServer({ issuer, clock: () => now })
  const api = createProtectedApi({ authServer: auth, ...options })
  const token = async (scope = 'read') =>
    (await postToken(auth, { grant_type: 'client_credentials', scope }, demoBasic)).body
      .access_token as string
  const call = (path: string, init: RequestInit & { token?: string } = {}) => {
    const headers = new Headers(init.headers)
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`)
    return api.handle(new Request(`${apiUrl}${path}`, { ...init, headers }))
  }
  return { auth, api, token, call, advance: (ms: number) => (now += ms) }
}

describe('protected API', () => {
  it('echoes an authorized request', async () => {
    const { api, token, call } = await setup()
    const t = await token()
    const res = await call('/echo/items?x=1', {
      method: 'POST',
      token: t,
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      method: 'POST',
      path: '/echo/items',
      query: { x: '1' },
      contentType: 'text/plain',
      bodyBase64: Buffer.from('hello').toString('base64'),
      authorized: true,
      clientId: 'demo-client',
    })
    expect(api.stats).toMatchObject({ requests: 1, unauthorized: 0 })
    expect(api.stats.byPath['/echo/items']).toBe(1)
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      path: '/echo/items',
      authorization: true,
      dpop: false,
      status: 200,
    })
    expect(JSON.stringify(api.requests)).not.toContain(t)
  })

  it('challenges a missing token without an error code (RFC 6750 §3.1)', async () => {
    const { api, call } = await setup()
    const res = await call('/echo')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tokenwell-mock-api"')
    expect(api.stats.unauthorized).toBe(1)
    expect(api.requests[0]!.authorization).toBe(false)
  })

  it('answers a bad, expired or revoked token with 401 invalid_token', async () => {
    const { auth, token, call, advance } = await setup()
    expect((await call('/echo', { token: 'not-a-jwt' })).headers.get('www-authenticate')).toMatch(
      /^Bearer realm="tokenwell-mock-api", error="invalid_token"/,
    )
    const t = await token()
    expect((await call('/echo', { token: t })).status).toBe(200)
    advance(300_000) // the token's lifetime
    expect((await call('/echo', { token: t })).status).toBe(401)
    const fresh = await token()
    expect((await call('/echo', { token: fresh })).status).toBe(200)
    auth.revokeAll()
    const revoked = await call('/echo', { token: fresh })
    expect(revoked.status).toBe(401)
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect((await call('/echo', { token: await token() })).status).toBe(200) // later tokens still work
  })

  it('rejects a token signed by another server', async () => {
    const other = createMockAuthServer({ issuer })
    const foreign = (await postToken(other, { grant_type: 'client_credentials' }, demoBasic)).body
      .access_token as string
    const { call } = await setup()
    expect((await call('/echo', { token: foreign })).status).toBe(401)
  })

  it('answers a malformed Bearer header with 400 invalid_request', async () => {
    const { call } = await setup()
    const res = await call('/echo', { headers: { authorization: 'Bearer' } })
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"')
  })

  it('always refuses /always-401, even with a good token', async () => {
    const { token, call } = await setup()
    const res = await call('/always-401', { token: await token() })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('answers /insufficient-scope with 401 and an insufficient_scope challenge', async () => {
    const { token, call } = await setup()
    const res = await call('/insufficient-scope?scope=orders:write', { token: await token() })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="tokenwell-mock-api", error="insufficient_scope", scope="orders:write"',
    )
  })

  it('enforces requiredScope with 403 insufficient_scope', async () => {
    const { token, call } = await setup({ requiredScope: 'orders:read' })
    const res = await call('/echo', { token: await token('other') })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('scope="orders:read"')
    expect((await call('/echo', { token: await token('orders:read') })).status).toBe(200)
  })

  it('enforces an audience when configured', async () => {
    const { token, call } = await setup({ audience: 'https://orders.test' })
    expect((await call('/echo', { token: await token() })).status).toBe(401)
  })

  it('redirects /redirect only after the token check', async () => {
    const { token, call } = await setup()
    const res = await call('/redirect?to=https://elsewhere.test/x', { token: await token() })
    expect([res.status, res.headers.get('location')]).toEqual([302, 'https://elsewhere.test/x'])
    expect((await call('/redirect?to=https://elsewhere.test/x')).status).toBe(401)
  })

  it('answers /slow after the delay, and /public without a token', async () => {
    const { token, call } = await setup()
    expect((await call('/slow?ms=5', { token: await token() })).status).toBe(200)
    const open = await call('/public/landing')
    expect(await open.json()).toMatchObject({ authorized: false, path: '/public/landing' })
  })

  it('fails the next requests on demand with a 401 challenge', async () => {
    const { api, token, call } = await setup()
    const t = await token()
    api.failNext(1)
    const failed = await call('/echo', { token: t })
    expect(failed.status).toBe(401)
    expect(failed.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect((await call('/echo', { token: t })).status).toBe(200)
    expect(api.stats.unauthorized).toBe(1)
    api.stats.reset()
    expect(api.stats.requests).toBe(0)
    expect(api.requests).toHaveLength(0)
  })

  it('answers unknown paths with 404', async () => {
    const { call } = await setup()
    expect((await call('/nope')).status).toBe(404)
  })
})
