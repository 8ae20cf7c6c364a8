import { createTokenProvider } from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { revocation } from '@tokenwell/core/revocation'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// RFC 7009 end to end over loopback: what the mock server refuses after provider.revoke().
let auth: RunningMockAuthServer
let api: RunningProtectedApi

beforeAll(async () => {
  auth = await startMockAuthServer()
  api = await startProtectedApi({ authServer: auth })
})
afterAll(async () => {
  await api?.close()
  await auth?.close()
})

const basic = `Basic ${btoa('demo-client:demo-secret')}`
async function introspect(token: string): Promise<boolean> {
  const response = await fetch(auth.introspectionEndpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  })
  return ((await response.json()) as { active: boolean }).active
}
const callApi = async (token: string) =>
  (await fetch(`${api.url}/echo`, { headers: { authorization: `Bearer ${token}` } })).status

describe('provider.revoke() against the mock server (RFC 7009)', () => {
  it('revokes both tokens at the discovered endpoint: introspection and the API refuse them; the next getToken() asks anew', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({
      revocation,
      discovery,
      issuer: auth.issuer,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      grant: { type: 'password', username: 'alice', password: 'alice-password' },
    })
    const token = await provider.getToken()
    expect(token.refreshToken).toBeDefined()
    expect(await introspect(token.accessToken)).toBe(true)
    expect(await introspect(token.refreshToken!)).toBe(true)
    expect(await callApi(token.accessToken)).toBe(200)

    expect(await provider.revoke()).toEqual({ refreshToken: true, accessToken: true })
    expect(auth.stats.revocationRequests).toBe(2)
    expect(await introspect(token.accessToken)).toBe(false)
    expect(await introspect(token.refreshToken!)).toBe(false)
    expect(await callApi(token.accessToken)).toBe(401)

    const next = await provider.getToken()
    expect(next.accessToken).not.toBe(token.accessToken)
    expect(auth.stats.tokenRequests).toBe(2)
    expect(auth.stats.byGrant.password).toBe(2)
    expect(auth.stats.byGrant.refresh_token).toBe(0)
    expect(await callApi(next.accessToken)).toBe(200)
  })

  it('revokes a client-credentials token at a configured endpoint with client_secret_post', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({
      revocation,
      tokenEndpoint: auth.tokenEndpoint,
      revocationEndpoint: auth.revocationEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      clientAuth: 'client_secret_post',
    })
    const token = await provider.getToken()
    expect(await provider.revoke()).toEqual({ refreshToken: false, accessToken: true })
    expect(auth.stats.revocationRequests).toBe(1)
    expect(await callApi(token.accessToken)).toBe(401)
    expect((await provider.getToken()).accessToken).not.toBe(token.accessToken)
  })
})
