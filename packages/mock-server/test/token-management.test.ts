import { importJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { createMockAuthServer } from '../src/index.js'
import { basic, demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const twoClients = [
  { clientId: 'demo-client', clientSecret: 'demo-secret' },
  { clientId: 'other', clientSecret: 'o' },
]

async function passwordTokens(auth: ReturnType<typeof createMockAuthServer>) {
  const { body } = await postToken(
    auth,
    { grant_type: 'password', username: 'alice', password: 'alice-password', scope: 'read' },
    demoBasic,
  )
  return { access: body.access_token as string, refresh: body.refresh_token as string }
}

describe('discovery and JWKS', () => {
  it('serves RFC 8414 and OIDC metadata naming every endpoint and supported method', async () => {
    const auth = createMockAuthServer({ issuer, scopes: ['read'] })
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await auth.handle(new Request(`${issuer}${path}`))).json()) as Record<
        string,
        unknown
      >
      expect(metadata).toMatchObject({
        issuer,
        token_endpoint: `${issuer}/token`,
        authorization_endpoint: `${issuer}/authorize`,
        jwks_uri: `${issuer}/jwks`,
        introspection_endpoint: `${issuer}/introspect`,
        revocation_endpoint: `${issuer}/revoke`,
        code_challenge_methods_supported: ['S256', 'plain'],
        scopes_supported: ['read'],
      })
      expect(metadata.grant_types_supported).toEqual(
        expect.arrayContaining(['client_credentials', 'password', 'refresh_token', 'authorization_code']),
      )
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(
        expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']),
      )
    }
  })

  it('puts RFC 8414 metadata of an issuer with a path under /.well-known/…/path', async () => {
    const auth = createMockAuthServer({ issuer: 'https://as.test/tenant-a' })
    const res = await auth.handle(
      new Request('https://as.test/.well-known/oauth-authorization-server/tenant-a'),
    )
    expect(((await res.json()) as { issuer: string }).issuer).toBe('https://as.test/tenant-a')
    expect(auth.tokenEndpoint).toBe('https://as.test/tenant-a/token')
    const token = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    expect(token.status).toBe(200)
  })

  it('publishes the ES256 key that verifies its access tokens (RFC 9068 at+jwt)', async () => {
    const auth = createMockAuthServer({ issuer })
    const { keys } = (await (await auth.handle(new Request(auth.jwksUri))).json()) as {
      keys: Record<string, string>[]
    }
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(keys[0]!.d).toBeUndefined() // never the private part
    const { body } = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    const { payload, protectedHeader } = await jwtVerify(
      body.access_token as string,
      await importJWK(keys[0]!, 'ES256'),
      { issuer },
    )
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: keys[0]!.kid })
    expect(payload).toMatchObject({
      iss: issuer,
      sub: 'demo-client',
      aud: expect.any(String),
      jti: expect.any(String),
    })
  })

  it('answers unknown paths with 404', async () => {
    const auth = createMockAuthServer({ issuer })
    expect((await auth.handle(new Request(`${issuer}/nope`))).status).toBe(404)
  })
})

describe('introspection (RFC 7662)', () => {
  const introspect = (auth: ReturnType<typeof createMockAuthServer>, token: string, headers = demoBasic) =>
    postToken(auth, { token }, headers, auth.introspectionEndpoint)

  it('reports access and refresh tokens as active, and anything else as inactive', async () => {
    const auth = createMockAuthServer({ issuer })
    const { access, refresh } = await passwordTokens(auth)
    expect((await introspect(auth, access)).body).toMatchObject({
      active: true,
      sub: 'alice',
      scope: 'read',
      client_id: 'demo-client',
    })
    expect((await introspect(auth, refresh)).body).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      sub: 'alice',
    })
    expect((await introspect(auth, 'garbage')).body).toEqual({ active: false })
    expect(auth.stats.introspectionRequests).toBe(3)
  })

  it('requires client authentication and hides other clients’ tokens', async () => {
    const auth = createMockAuthServer({ issuer, clients: twoClients })
    const { access } = await passwordTokens(auth)
    expect((await introspect(auth, access, { authorization: basic('demo-client', 'bad') })).status).toBe(401)
    expect((await introspect(auth, access, { authorization: basic('other', 'o') })).body).toEqual({
      active: false,
    })
  })

  it('reports revoked tokens as inactive', async () => {
    const auth = createMockAuthServer({ issuer })
    const { access, refresh } = await passwordTokens(auth)
    auth.revokeAll()
    expect((await introspect(auth, access)).body).toEqual({ active: false })
    expect((await introspect(auth, refresh)).body).toEqual({ active: false })
  })
})

describe('revocation (RFC 7009)', () => {
  const revoke = (auth: ReturnType<typeof createMockAuthServer>, token: string, headers = demoBasic) =>
    postToken(auth, { token }, headers, auth.revocationEndpoint)

  it('revokes an access token', async () => {
    const auth = createMockAuthServer({ issuer })
    const { access } = await passwordTokens(auth)
    expect((await revoke(auth, access)).status).toBe(200)
    expect(await auth.verifyAccessToken(access)).toBeUndefined()
    expect(auth.stats.revocationRequests).toBe(1)
  })

  it('revokes a refresh token and its family', async () => {
    const auth = createMockAuthServer({ issuer })
    const { refresh } = await passwordTokens(auth)
    expect((await revoke(auth, refresh)).status).toBe(200)
    const res = await postToken(auth, { grant_type: 'refresh_token', refresh_token: refresh }, demoBasic)
    expect(res.body.error).toBe('invalid_grant')
  })

  it('answers 200 for an unknown token, and refuses another client’s token', async () => {
    const auth = createMockAuthServer({ issuer, clients: twoClients })
    expect((await revoke(auth, 'unknown')).status).toBe(200)
    const { access } = await passwordTokens(auth)
    const res = await revoke(auth, access, { authorization: basic('other', 'o') })
    expect([res.status, res.body.error]).toEqual([400, 'unauthorized_client'])
    expect(await auth.verifyAccessToken(access)).toBeDefined()
  })
})

describe('verifyAccessToken', () => {
  it('rejects expired tokens by the injected clock, tampered tokens and tokens from another issuer', async () => {
    let now = 1_700_000_000_000
    const auth = createMockAuthServer({ issuer, clock: () => now, tokenLifetime: 60 })
    const { body } = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    const token = body.access_token as string
    expect(await auth.verifyAccessToken(token)).toBeDefined()
    const [h, p, s] = token.split('.')
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')}.${s}`
    expect(await auth.verifyAccessToken(forged)).toBeUndefined()
    now += 59_000
    expect(await auth.verifyAccessToken(token)).toBeDefined()
    now += 1_000
    expect(await auth.verifyAccessToken(token)).toBeUndefined()
    const elsewhere = createMockAuthServer({ issuer: 'https://other.test' })
    expect(await elsewhere.verifyAccessToken(token)).toBeUndefined()
    expect(await auth.verifyAccessToken('')).toBeUndefined()
  })

  it('shares one verification among concurrent callers with the same token', async () => {
    const auth = createMockAuthServer({ issuer })
    const { body } = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    const results = await Promise.all(
      Array.from({ length: 500 }, () => auth.verifyAccessToken(body.access_token as string)),
    )
    expect(new Set(results).size).toBe(1) // the very same claims object: one verification
    expect(results[0]).toMatchObject({ sub: 'demo-client' })
  })
})
