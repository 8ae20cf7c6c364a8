import {
  AuthorizationError,
  createTokenProvider,
  OAuthError,
  startDeviceAuthorization,
  type TokenProviderOptions,
} from '@tokenwell/core'
import { deviceCodeGrant } from '@tokenwell/core/device'
import { discovery } from '@tokenwell/core/discovery'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// The device authorization grant (RFC 8628) end to end: core against the mock server on loopback,
// the test approving (or denying) as the user would at the verification page.
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'
const CLIENT_SECRET = 'device-cs-1b7e4a90'

let auth: RunningMockAuthServer
beforeAll(async () => {
  auth = await startMockAuthServer({
    clients: [{ clientId: 'tv' }, { clientId: 'svc', clientSecret: CLIENT_SECRET }],
    deviceInterval: 0.02, // polls 20 ms apart
  })
})
afterAll(() => auth?.close())

const devicePolls = (clientId: string) =>
  auth.requests.filter((r) => r.grantType === DEVICE && r.clientId === clientId)

async function start(extra: Partial<Parameters<typeof startDeviceAuthorization>[0]> = {}) {
  return startDeviceAuthorization({ issuer: auth.issuer, clientId: 'tv', clientAuth: 'none', ...extra })
}

function provider(
  authorization: Awaited<ReturnType<typeof start>>,
  extra: Partial<TokenProviderOptions> = {},
) {
  return createTokenProvider({
    discovery,
    issuer: auth.issuer,
    clientId: 'tv',
    clientAuth: 'none',
    refreshAhead: false,
    grant: deviceCodeGrant(authorization),
    ...extra,
  })
}

describe('device authorization grant against the mock server', () => {
  it('50 callers share one poll until the user approves; then refresh keeps it alive and the code is never sent again', async () => {
    auth.stats.reset()
    const authorization = await start({ scope: 'openid offline_access' })
    expect(authorization.verificationUri).toBe(auth.verificationUri)
    expect(authorization.interval).toBe(20)
    const p = provider(authorization)
    const waiting = Promise.all(Array.from({ length: 50 }, () => p.getToken()))
    await vi.waitFor(() => expect(devicePolls('tv').length).toBeGreaterThanOrEqual(3), { timeout: 5_000 })
    expect(auth.approveDevice(authorization.userCode)).toBe(true)
    const tokens = await waiting
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(await auth.verifyAccessToken(tokens[0]!.accessToken)).toMatchObject({
      sub: 'alice',
      client_id: 'tv',
      scope: 'openid offline_access',
    })
    const polls = devicePolls('tv')
    // every poll but the last was told to wait; none came too fast (no slow_down)
    expect(polls.slice(0, -1).every((r) => r.error === 'authorization_pending')).toBe(true)
    expect(polls.at(-1)?.status).toBe(200)
    expect(auth.stats.byError.slow_down ?? 0).toBe(0)
    expect(auth.stats.deviceAuthorizationRequests).toBe(1)

    await p.getToken({ forceRefresh: true })
    await p.getToken({ forceRefresh: true })
    expect(auth.stats.byGrant.refresh_token).toBe(2)
    expect(devicePolls('tv')).toHaveLength(polls.length)
    await p.close()
  })

  it('a denial is an AuthorizationError (access_denied), and polling stops there', async () => {
    auth.stats.reset()
    const authorization = await start()
    const p = provider(authorization)
    const waiting = p.getToken().catch((error: unknown) => error)
    await vi.waitFor(() => expect(devicePolls('tv').length).toBeGreaterThanOrEqual(1), { timeout: 5_000 })
    auth.denyDevice(authorization.userCode)
    const error = await waiting
    expect(error).toBeInstanceOf(AuthorizationError)
    expect(error).toMatchObject({ code: 'ERR_AUTHORIZATION', error: 'access_denied' })
    const polls = devicePolls('tv').length
    await expect(p.getToken()).rejects.toBe(error)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(devicePolls('tv')).toHaveLength(polls)
  })

  it('stops at the code’s expiry on its own: AuthorizationError (expired_token), no poll the server must refuse', async () => {
    const shortLived = await startMockAuthServer({
      clients: [{ clientId: 'tv' }],
      deviceInterval: 0.05,
      deviceCodeLifetime: 0.25,
    })
    try {
      const authorization = await startDeviceAuthorization({
        deviceAuthorizationEndpoint: shortLived.deviceAuthorizationEndpoint,
        clientId: 'tv',
        clientAuth: 'none',
      })
      const p = createTokenProvider({
        tokenEndpoint: shortLived.tokenEndpoint,
        clientId: 'tv',
        clientAuth: 'none',
        grant: deviceCodeGrant(authorization),
      })
      const error = await p.getToken().catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_AUTHORIZATION', error: 'expired_token' })
      expect(shortLived.stats.byGrant[DEVICE]).toBeGreaterThanOrEqual(1)
      expect(shortLived.stats.byError.expired_token ?? 0).toBe(0)
    } finally {
      await shortLived.close()
    }
  })

  it('a confidential client authenticates at both endpoints; a wrong secret is the server’s invalid_client', async () => {
    const authorization = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: auth.deviceAuthorizationEndpoint,
      clientId: 'svc',
      clientSecret: CLIENT_SECRET,
    })
    auth.approveDevice(authorization.userCode)
    const p = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'svc',
      clientSecret: CLIENT_SECRET,
      grant: deviceCodeGrant(authorization),
    })
    expect(await auth.verifyAccessToken((await p.getToken()).accessToken)).toMatchObject({ client_id: 'svc' })
    expect(devicePolls('svc').map((r) => r.clientAuth)).toEqual(['client_secret_basic'])

    const error = await startDeviceAuthorization({
      issuer: auth.issuer,
      clientId: 'svc',
      clientSecret: 'wrong',
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect((error as Error).message).toBe(
      'device authorization endpoint returned "invalid_client" (HTTP 401)',
    )
  })
})
