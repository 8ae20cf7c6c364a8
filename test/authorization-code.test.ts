import {
  AuthorizationError,
  buildAuthorizationUrl,
  createPkcePair,
  createTokenProvider,
  OAuthError,
  parseAuthorizationResponse,
  randomUrlSafe,
} from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { startLoopbackRedirect } from '@tokenwell/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// A CLI login end to end: PKCE, the mock server's /authorize, the loopback redirect, the code
// exchange, then refresh-token rotation.
let auth: RunningMockAuthServer
let now = Date.now()
const clock = () => now
beforeAll(async () => {
  auth = await startMockAuthServer({ clients: [{ clientId: 'my-cli' }], clock })
})
afterAll(() => auth?.close())

/** Runs the browser's part: the authorization URL redirects to the loopback listener. */
async function login(options: { state?: string } = {}) {
  const redirect = await startLoopbackRedirect()
  const pkce = await createPkcePair()
  const state = randomUrlSafe()
  const url = await buildAuthorizationUrl({
    discovery,
    issuer: auth.issuer,
    clientId: 'my-cli',
    redirectUri: redirect.redirectUri,
    scope: 'openid offline_access',
    state: options.state ?? state,
    codeChallenge: pkce.codeChallenge,
  })
  const callback = redirect.waitForCallback()
  const approval = await fetch(url, { redirect: 'manual' })
  expect(approval.status).toBe(302)
  await (await fetch(approval.headers.get('location')!)).text()
  return {
    callback: await callback,
    state,
    redirectUri: redirect.redirectUri,
    codeVerifier: pkce.codeVerifier,
  }
}

describe('authorization code + PKCE against the mock server', () => {
  it('logs in through the loopback redirect, exchanges the code once, then refreshes with rotation', async () => {
    auth.stats.reset()
    const { callback, state, redirectUri, codeVerifier } = await login()
    const { code } = parseAuthorizationResponse(callback, { state, issuer: auth.issuer })
    const provider = createTokenProvider({
      discovery,
      issuer: auth.issuer,
      clientId: 'my-cli',
      clientAuth: 'none',
      clock,
      grant: { type: 'authorization_code', code, redirectUri, codeVerifier },
    })
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(await auth.verifyAccessToken(tokens[0]!.accessToken)).toMatchObject({
      sub: 'alice',
      client_id: 'my-cli',
    })
    await provider.getToken({ forceRefresh: true })
    await provider.getToken({ forceRefresh: true })
    expect(auth.stats.byGrant).toMatchObject({ authorization_code: 1, refresh_token: 2 })
    expect(auth.stats.byError ?? {}).not.toHaveProperty('invalid_grant')
  })

  it('a callback whose state is not ours is refused before any token request', async () => {
    auth.stats.reset()
    const { callback, state } = await login({ state: 'forged-state' })
    expect(() => parseAuthorizationResponse(callback, { state })).toThrow(AuthorizationError)
    expect(auth.stats.tokenRequests).toBe(0)
  })

  it('an expired code is the server’s invalid_grant; a refused refresh token later asks for a new login', async () => {
    const { callback, state, redirectUri, codeVerifier } = await login()
    const { code } = parseAuthorizationResponse(callback, { state, issuer: auth.issuer })
    now += 61_000 // codes live 60 s
    const late = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'my-cli',
      clientAuth: 'none',
      clock,
      grant: { type: 'authorization_code', code, redirectUri, codeVerifier },
    })
    await expect(late.getToken()).rejects.toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_grant' })

    const fresh = await login()
    const provider = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'my-cli',
      clientAuth: 'none',
      clock,
      refreshAhead: false,
      failureCooldown: 0,
      grant: {
        type: 'authorization_code',
        code: parseAuthorizationResponse(fresh.callback, { state: fresh.state }).code,
        redirectUri: fresh.redirectUri,
        codeVerifier: fresh.codeVerifier,
      },
    })
    await provider.getToken()
    auth.revokeAll()
    now += 301_000
    await expect(provider.getToken()).rejects.toBeInstanceOf(OAuthError)
    auth.stats.reset()
    await expect(provider.getToken()).rejects.toThrow(/log in again/)
    expect(auth.stats.tokenRequests).toBe(0) // the spent code was not sent again
  })
})
