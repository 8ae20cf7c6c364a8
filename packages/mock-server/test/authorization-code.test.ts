import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createMockAuthServer } from '../src/index.js'
import { basic, demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const redirectUri = 'https://app.test/callback'
const verifier = 'a-code-verifier-that-is-long-enough-for-rfc-7636-0123456789'
const challenge = createHash('sha256').update(verifier).digest('base64url')

async function authorize(auth: ReturnType<typeof createMockAuthServer>, query: Record<string, string>) {
  const url = new URL(auth.authorizationEndpoint)
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
  const response = await auth.handle(new Request(url))
  const location = response.headers.get('location')
  return { response, params: location ? new URL(location).searchParams : undefined, location }
}

const pkceQuery = {
  response_type: 'code',
  client_id: 'demo-client',
  redirect_uri: redirectUri,
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state: 'xyz',
  scope: 'openid read',
}

describe('authorization_code with PKCE', () => {
  it('approves at once, then exchanges the code once for tokens', async () => {
    const auth = createMockAuthServer({ issuer })
    const { response, params } = await authorize(auth, pkceQuery)
    expect(response.status).toBe(302)
    expect(params!.get('state')).toBe('xyz')
    expect(params!.get('iss')).toBe(issuer) // RFC 9207
    const code = params!.get('code')!
    const exchange = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }
    const tokens = await postToken(auth, exchange, demoBasic)
    expect(tokens.status).toBe(200)
    expect(tokens.body).toMatchObject({ scope: 'openid read', refresh_token: expect.any(String) })
    expect(await auth.verifyAccessToken(tokens.body.access_token as string)).toMatchObject({ sub: 'alice' })
    expect(auth.stats.authorizeRequests).toBe(1)
    expect(auth.stats.byGrant['authorization_code']).toBe(1)

    // RFC 6749 §4.1.2: a replayed code fails and revokes what it issued
    const replay = await postToken(auth, exchange, demoBasic)
    expect([replay.status, replay.body.error]).toEqual([400, 'invalid_grant'])
    expect(await auth.verifyAccessToken(tokens.body.access_token as string)).toBeUndefined()
    const refresh = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string },
      demoBasic,
    )
    expect(refresh.body.error).toBe('invalid_grant')
  })

  it('fails a wrong code_verifier, a missing one, or a different redirect_uri with invalid_grant', async () => {
    const auth = createMockAuthServer({ issuer })
    const attempts: Record<string, string>[] = [
      { redirect_uri: redirectUri, code_verifier: `${verifier}x` },
      { redirect_uri: redirectUri },
      { redirect_uri: 'https://app.test/other', code_verifier: verifier },
    ]
    for (const extra of attempts) {
      const { params } = await authorize(auth, pkceQuery)
      const res = await postToken(
        auth,
        { grant_type: 'authorization_code', code: params!.get('code')!, ...extra },
        demoBasic,
      )
      expect([res.status, res.body.error]).toEqual([400, 'invalid_grant'])
    }
  })

  it('supports the plain method and picks the user from login_hint', async () => {
    const auth = createMockAuthServer({
      issuer,
      users: [
        { username: 'alice', password: 'a' },
        { username: 'bob', password: 'b', sub: 'user-bob' },
      ],
    })
    const { params } = await authorize(auth, {
      ...pkceQuery,
      code_challenge: 'plain-verifier-plain-verifier-plain-verifier-123',
      code_challenge_method: 'plain',
      login_hint: 'bob',
    })
    const res = await postToken(
      auth,
      {
        grant_type: 'authorization_code',
        code: params!.get('code')!,
        redirect_uri: redirectUri,
        code_verifier: 'plain-verifier-plain-verifier-plain-verifier-123',
      },
      demoBasic,
    )
    expect((await auth.verifyAccessToken(res.body.access_token as string))!.sub).toBe('user-bob')
  })

  it('requires PKCE from a public client and lets it exchange with none', async () => {
    const auth = createMockAuthServer({ issuer, clients: [{ clientId: 'spa', redirectUris: [redirectUri] }] })
    const without = await authorize(auth, {
      response_type: 'code',
      client_id: 'spa',
      redirect_uri: redirectUri,
    })
    expect(without.params!.get('error')).toBe('invalid_request')
    const { params } = await authorize(auth, { ...pkceQuery, client_id: 'spa' })
    const res = await postToken(auth, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code: params!.get('code')!,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    })
    expect(res.status).toBe(200)
  })

  it('refuses a code issued to another client', async () => {
    const auth = createMockAuthServer({
      issuer,
      clients: [
        { clientId: 'demo-client', clientSecret: 'demo-secret' },
        { clientId: 'other', clientSecret: 'o' },
      ],
    })
    const { params } = await authorize(auth, pkceQuery)
    const res = await postToken(
      auth,
      {
        grant_type: 'authorization_code',
        code: params!.get('code')!,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      },
      { authorization: basic('other', 'o') },
    )
    expect(res.body.error).toBe('invalid_grant')
  })

  it('answers a bad client or redirect URI with 400 and never redirects to it', async () => {
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'c', clientSecret: 's', redirectUris: [redirectUri] }],
    })
    const unknown = await authorize(auth, { ...pkceQuery, client_id: 'nobody' })
    expect([unknown.response.status, unknown.location]).toEqual([400, null])
    const foreign = await authorize(auth, {
      ...pkceQuery,
      client_id: 'c',
      redirect_uri: 'https://evil.test/cb',
    })
    expect([foreign.response.status, foreign.location]).toEqual([400, null])
  })

  it('redirects other errors with error and state', async () => {
    const auth = createMockAuthServer({ issuer })
    const { params } = await authorize(auth, { ...pkceQuery, response_type: 'token' })
    expect(params!.get('error')).toBe('unsupported_response_type')
    expect(params!.get('state')).toBe('xyz')
  })
})
