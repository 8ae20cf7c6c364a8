import { createTokenProvider } from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { revocation } from '@tokenwell/core/revocation'
import { describe, expect, it } from 'vitest'
import { useMockServers } from './support/servers.js'

// RFC 7009 end to end over loopback: what the mock server refuses after provider.revoke().
const servers = useMockServers({ api: {} })

const basic = `Basic ${btoa('demo-client:demo-secret')}`
async function introspect(token: string): Promise<boolean> {
  const response = await fetch(servers.auth.introspectionEndpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  })
  return ((await response.json()) as { active: boolean }).active
}
const callApi = async (token: string) =>
  (await fetch(`${servers.api.url}/echo`, { headers: { authorization: `Bearer ${token}` } })).status

describe('provider.revoke() against the mock server (RFC 7009)', () => {
  it('revokes both tokens at the discovered endpoint: introspection and the API refuse them; the next getToken() asks anew', async () => {
    servers.auth.stats.reset()
    const provider = createTokenProvider({
      revocation,
      discovery,
      issuer: servers.auth.issuer,
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
    expect(servers.auth.stats.revocationRequests).toBe(2)
    expect(await introspect(token.accessToken)).toBe(false)
    expect(await introspect(token.refreshToken!)).toBe(false)
    expect(await callApi(token.accessToken)).toBe(401)

    const next = await provider.getToken()
    expect(next.accessToken).not.toBe(token.accessToken)
    expect(servers.auth.stats.tokenRequests).toBe(2)
    expect(servers.auth.stats.byGrant.password).toBe(2)
    expect(servers.auth.stats.byGrant.refresh_token).toBe(0)
    expect(await callApi(next.accessToken)).toBe(200)
  })

  it('revokes a client-credentials token at a configured endpoint with client_secret_post', async () => {
    servers.auth.stats.reset()
    const provider = createTokenProvider({
      revocation,
      tokenEndpoint: servers.auth.tokenEndpoint,
      revocationEndpoint: servers.auth.revocationEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      clientAuth: 'client_secret_post',
    })
    const token = await provider.getToken()
    expect(await provider.revoke()).toEqual({ refreshToken: false, accessToken: true })
    expect(servers.auth.stats.revocationRequests).toBe(1)
    expect(await callApi(token.accessToken)).toBe(401)
    expect((await provider.getToken()).accessToken).not.toBe(token.accessToken)
  })
})
