import { createHash } from 'node:crypto'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { discovery } from '../src/discovery/index.js'
import {
  AuthorizationError,
  buildAuthorizationUrl,
  ConfigError,
  createPkcePair,
  createTokenProvider,
  OAuthError,
  parseAuthorizationResponse,
  randomUrlSafe,
  type TokenwellError,
} from '../src/index.js'

const issuer = 'https://as.test'
const redirectUri = 'http://127.0.0.1:49152/callback'

describe('PKCE and the authorization URL (RFC 7636, RFC 6749 §4.1)', () => {
  it('createPkcePair makes a 43-character verifier and its S256 challenge, new each time', async () => {
    const pair = await createPkcePair()
    expect(pair.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(pair.codeChallenge).toBe(createHash('sha256').update(pair.codeVerifier).digest('base64url'))
    expect(pair.codeChallengeMethod).toBe('S256')
    expect((await createPkcePair()).codeVerifier).not.toBe(pair.codeVerifier)
    expect(randomUrlSafe(16)).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('builds the authorization URL with every parameter, keeping the endpoint’s own query', async () => {
    const url = await buildAuthorizationUrl({
      authorizationEndpoint: 'https://as.test/authorize?tenant=7',
      clientId: 'cli',
      redirectUri,
      scope: ['openid', 'offline_access'],
      state: 'st',
      codeChallenge: 'ch',
      resource: 'https://api.test',
      extraParams: { prompt: 'consent' },
    })
    expect(url.origin + url.pathname).toBe('https://as.test/authorize')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: '7',
      response_type: 'code',
      client_id: 'cli',
      redirect_uri: redirectUri,
      scope: 'openid offline_access',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
      resource: 'https://api.test',
      prompt: 'consent',
    })
  })

  it('finds the authorization endpoint in the issuer’s metadata', async () => {
    server.use(
      http.get(`${issuer}/.well-known/oauth-authorization-server`, () =>
        HttpResponse.json({
          issuer,
          token_endpoint: `${issuer}/token`,
          authorization_endpoint: `${issuer}/auth`,
        }),
      ),
    )
    const url = await buildAuthorizationUrl({
      discovery,
      issuer,
      clientId: 'cli',
      redirectUri,
      state: 's',
      codeChallenge: 'c',
    })
    expect(url.href.startsWith(`${issuer}/auth?response_type=code`)).toBe(true)
  })

  it('refuses incomplete options and reserved extra parameters', async () => {
    const base = {
      authorizationEndpoint: `${issuer}/auth`,
      clientId: 'cli',
      redirectUri,
      state: 's',
      codeChallenge: 'c',
    }
    await expect(buildAuthorizationUrl({ ...base, state: '' })).rejects.toThrow(
      /state must be a non-empty string/,
    )
    await expect(buildAuthorizationUrl({ ...base, extraParams: { state: 'x' } })).rejects.toBeInstanceOf(
      ConfigError,
    )
    await expect(buildAuthorizationUrl({ discovery, ...base, issuer })).rejects.toThrow(
      /exactly one of authorizationEndpoint or issuer/,
    )
  })
})

describe('parseAuthorizationResponse (RFC 6749 §4.1.2, RFC 9207)', () => {
  it('returns the code when state matches', () => {
    expect(
      parseAuthorizationResponse(`${redirectUri}?code=abc&state=s1&iss=${issuer}`, { state: 's1', issuer }),
    ).toEqual({
      code: 'abc',
      state: 's1',
      iss: issuer,
    })
    expect(parseAuthorizationResponse(new URLSearchParams('code=abc&state=s1'), { state: 's1' }).code).toBe(
      'abc',
    )
  })

  const failures: [string, string, RegExp, string?][] = [
    ['a state mismatch', '?code=abc&state=other', /state does not match/],
    ['a missing state', '?code=abc', /state does not match/],
    [
      'an error from the server',
      '?error=access_denied&error_description=no&state=s1',
      /returned "access_denied"/,
      'access_denied',
    ],
    ['an iss of another server (mix-up)', `?code=abc&state=s1&iss=https://evil.test`, /another issuer/],
    ['no code', '?state=s1', /has no code/],
  ]
  it.each(failures)('throws AuthorizationError for %s', (_, query, message, error) => {
    const thrown = (() => {
      try {
        parseAuthorizationResponse(`${redirectUri}${query}`, { state: 's1', issuer })
      } catch (e) {
        return e as AuthorizationError
      }
    })()
    expect(thrown).toBeInstanceOf(AuthorizationError)
    expect(thrown!.code).toBe('ERR_AUTHORIZATION')
    expect(thrown!.message).toMatch(message)
    expect(thrown!.error).toBe(error)
  })
})

describe('authorization_code grant, then refresh', () => {
  /** A token endpoint with one valid code bound to a verifier, and rotating refresh tokens. */
  function codeServer(verifier: string) {
    const log: URLSearchParams[] = []
    let live = new Set<string>()
    let codeUsed = false
    let n = 0
    server.use(
      http.post(`${issuer}/token`, async ({ request }) => {
        const form = new URLSearchParams(await request.text())
        log.push(form)
        const issue = () => {
          const refresh = `rt-${++n}`
          live = new Set([refresh])
          return HttpResponse.json({
            access_token: `at-${n}`,
            token_type: 'Bearer',
            expires_in: 300,
            refresh_token: refresh,
          })
        }
        if (form.get('grant_type') === 'authorization_code') {
          const challenge = createHash('sha256')
            .update(form.get('code_verifier') ?? '')
            .digest('base64url')
          const expected = createHash('sha256').update(verifier).digest('base64url')
          if (form.get('code') !== 'good-code' || codeUsed || challenge !== expected) {
            return HttpResponse.json(
              { error: 'invalid_grant', error_description: 'code expired' },
              { status: 400 },
            )
          }
          codeUsed = true
          return issue()
        }
        if (form.get('grant_type') === 'refresh_token' && live.delete(form.get('refresh_token') ?? ''))
          return issue()
        return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      }),
    )
    return { log, revoke: () => live.clear() }
  }

  it('exchanges the code once with its verifier, then refreshes with rotated refresh tokens', async () => {
    const { codeVerifier } = await createPkcePair()
    const { log } = codeServer(codeVerifier)
    const provider = createTokenProvider({
      tokenEndpoint: `${issuer}/token`,
      clientId: 'cli',
      clientAuth: 'none',
      grant: { type: 'authorization_code', code: 'good-code', redirectUri, codeVerifier },
    })
    expect((await provider.getToken()).accessToken).toBe('at-1')
    expect(log[0]!.get('code_verifier')).toBe(codeVerifier)
    expect(log[0]!.get('redirect_uri')).toBe(redirectUri)
    expect((await provider.getToken({ forceRefresh: true })).accessToken).toBe('at-2')
    expect((await provider.getToken({ forceRefresh: true })).accessToken).toBe('at-3')
    expect(log.map((f) => f.get('refresh_token'))).toEqual([null, 'rt-1', 'rt-2'])
  })

  it('an expired or invalid code is an OAuthError invalid_grant, not retried', async () => {
    const { log } = codeServer('v')
    const provider = createTokenProvider({
      tokenEndpoint: `${issuer}/token`,
      clientId: 'cli',
      clientAuth: 'none',
      grant: { type: 'authorization_code', code: 'stale-code', redirectUri, codeVerifier: 'v' },
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as OAuthError
    expect(error).toBeInstanceOf(OAuthError)
    expect(error.error).toBe('invalid_grant')
    expect(log).toHaveLength(1)
  })

  it('never sends a spent code again: once the refresh token is refused, AuthorizationError asks for a new login', async () => {
    const { codeVerifier } = await createPkcePair()
    const { log, revoke } = codeServer(codeVerifier)
    let now = Date.now()
    const provider = createTokenProvider({
      tokenEndpoint: `${issuer}/token`,
      clientId: 'cli',
      clientAuth: 'none',
      failureCooldown: 0,
      refreshAhead: false,
      clock: () => now,
      grant: { type: 'authorization_code', code: 'good-code', redirectUri, codeVerifier },
    })
    await provider.getToken()
    revoke()
    now += 301_000 // the access token has expired: nothing cached is left to fall back on
    await expect(provider.getToken({ forceRefresh: true })).rejects.toMatchObject({
      code: 'ERR_OAUTH',
      error: 'invalid_grant',
    })
    const error = (await provider.getToken({ forceRefresh: true }).catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(AuthorizationError)
    expect(error.message).toMatch(/log in again/)
    expect(log.filter((f) => f.get('grant_type') === 'authorization_code')).toHaveLength(1)
    expect(log).toHaveLength(2)
  })
})
