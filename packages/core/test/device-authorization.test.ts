import { inspect } from 'node:util'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DiscoveryError,
  OAuthError,
  startDeviceAuthorization,
  TokenRequestError,
  TokenResponseError,
  type TokenwellError,
} from '../src/index.js'

const issuer = 'https://as.test'
const endpoint = `${issuer}/device_authorization`
const DEVICE_CODE = 'dc-4f1e9b2a7c-secret'
const CLIENT_SECRET = 'cs-8e2d-secret'

const answer = (extra: Record<string, unknown> = {}) =>
  HttpResponse.json({
    device_code: DEVICE_CODE,
    user_code: 'WDJB-MJHT',
    verification_uri: `${issuer}/device`,
    verification_uri_complete: `${issuer}/device?user_code=WDJB-MJHT`,
    expires_in: 600,
    ...extra,
  })

/** The device authorization endpoint, recording each request. */
function deviceEndpoint(respond: () => Response = () => answer()) {
  const seen: { form: URLSearchParams; headers: Headers }[] = []
  server.use(
    http.post(endpoint, async ({ request }) => {
      seen.push({ form: new URLSearchParams(await request.text()), headers: request.headers })
      return respond()
    }),
  )
  return seen
}

describe('startDeviceAuthorization (RFC 8628 §3.1, §3.2)', () => {
  it('POSTs the client and scope and returns the codes, the expiry and the interval in ms', async () => {
    const seen = deviceEndpoint()
    const authorization = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: endpoint,
      clientId: 'tv',
      clientAuth: 'none',
      scope: ['openid', 'offline_access'],
      clock: () => 1_000_000,
    })
    expect(seen).toHaveLength(1)
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ client_id: 'tv', scope: 'openid offline_access' })
    expect(seen[0]!.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/)
    expect({ ...authorization }).toEqual({
      deviceCode: DEVICE_CODE,
      userCode: 'WDJB-MJHT',
      verificationUri: `${issuer}/device`,
      verificationUriComplete: `${issuer}/device?user_code=WDJB-MJHT`,
      expiresAt: 1_000_000 + 600_000,
      interval: 5_000, // RFC 8628 §3.2: 5 s when the server names none
    })
  })

  it('takes the server’s interval, and authenticates a confidential client as a token request would', async () => {
    const seen = deviceEndpoint(() => answer({ interval: 7, verification_uri_complete: undefined }))
    const authorization = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: endpoint,
      clientId: 'svc',
      clientSecret: CLIENT_SECRET,
      audience: 'https://api.test',
    })
    expect(authorization.interval).toBe(7_000)
    expect(authorization.verificationUriComplete).toBeUndefined()
    expect(seen[0]!.headers.get('authorization')).toBe(`Basic ${btoa(`svc:${CLIENT_SECRET}`)}`)
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ audience: 'https://api.test' })
  })

  it('finds the endpoint in the issuer’s metadata, and says so when there is none', async () => {
    const metadata: Record<string, unknown> = { issuer, token_endpoint: `${issuer}/token` }
    server.use(
      http.get(`${issuer}/.well-known/oauth-authorization-server`, () => HttpResponse.json(metadata)),
    )
    const seen = deviceEndpoint()
    await expect(startDeviceAuthorization({ issuer, clientId: 'tv', clientAuth: 'none' })).rejects.toSatisfy(
      (e: TokenwellError) =>
        e instanceof DiscoveryError && /no device_authorization_endpoint/.test(e.message),
    )
    metadata.device_authorization_endpoint = endpoint
    const authorization = await startDeviceAuthorization({ issuer, clientId: 'tv', clientAuth: 'none' })
    expect(authorization.userCode).toBe('WDJB-MJHT')
    expect(seen).toHaveLength(1)
  })

  it('keeps the device code out of inspect and JSON.stringify, its fields readable', async () => {
    deviceEndpoint()
    const authorization = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: endpoint,
      clientId: 'tv',
      clientAuth: 'none',
    })
    expect(authorization.deviceCode).toBe(DEVICE_CODE)
    for (const text of [inspect(authorization), JSON.stringify(authorization), String(authorization)]) {
      expect(text).not.toContain(DEVICE_CODE)
    }
    expect(inspect(authorization)).toContain('WDJB-MJHT')
    expect(JSON.parse(JSON.stringify(authorization)).deviceCode).toBe('[redacted]')
  })

  it('an OAuth error is an OAuthError naming the device authorization endpoint', async () => {
    deviceEndpoint(() =>
      HttpResponse.json({ error: 'invalid_scope', error_description: 'no such scope' }, { status: 400 }),
    )
    const error = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: endpoint,
      clientId: 'tv',
      clientAuth: 'none',
      scope: 'nope',
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_scope', status: 400 })
    expect((error as Error).message).toBe('device authorization endpoint returned "invalid_scope" (HTTP 400)')
  })

  it.each([
    ['no device_code', () => answer({ device_code: undefined }), /no valid device_code/],
    ['no user_code', () => answer({ user_code: '' }), /no valid user_code/],
    [
      'a javascript: verification_uri',
      () => answer({ verification_uri: 'javascript:alert(1)' }),
      /verification_uri/,
    ],
    ['no expires_in', () => answer({ expires_in: undefined }), /expires_in/],
    ['a negative interval', () => answer({ interval: -1 }), /interval/],
    [
      'an HTML page',
      () => new HttpResponse('<h1>oops</h1>', { status: 200, headers: { 'content-type': 'text/html' } }),
      /text\/html, not JSON/,
    ],
    ['a body over maxResponseBytes', () => answer({ padding: 'x'.repeat(2_000) }), /larger than 1000 bytes/],
    [
      'a redirect',
      () => new HttpResponse(null, { status: 302, headers: { location: 'https://elsewhere.test/' } }),
      /redirected/,
    ],
  ])('%s is a TokenResponseError', async (_, respond, message) => {
    deviceEndpoint(respond)
    const error = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: endpoint,
      clientId: 'tv',
      clientAuth: 'none',
      maxResponseBytes: 1_000,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenResponseError)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain(DEVICE_CODE)
  })

  it('a network failure is a TokenRequestError; a slow server, a timeout', async () => {
    server.use(http.post(endpoint, () => HttpResponse.error()))
    await expect(
      startDeviceAuthorization({ deviceAuthorizationEndpoint: endpoint, clientId: 'tv', clientAuth: 'none' }),
    ).rejects.toThrow(new TokenRequestError('device authorization request failed: network error'))
    server.use(http.post(endpoint, () => new Promise<Response>(() => {})))
    await expect(
      startDeviceAuthorization({
        deviceAuthorizationEndpoint: endpoint,
        clientId: 'tv',
        clientAuth: 'none',
        timeout: 20,
      }),
    ).rejects.toThrow(/device authorization request timed out after 20 ms/)
  })

  it('the caller’s signal aborts it with the signal’s reason', async () => {
    server.use(http.post(endpoint, () => new Promise<Response>(() => {})))
    const controller = new AbortController()
    const pending = startDeviceAuthorization({
      deviceAuthorizationEndpoint: endpoint,
      clientId: 'tv',
      clientAuth: 'none',
      signal: controller.signal,
    })
    controller.abort(new Error('user pressed Ctrl-C'))
    await expect(pending).rejects.toThrow('user pressed Ctrl-C')
  })

  it.each([
    [{ clientId: 'tv', clientAuth: 'none' }, /exactly one of deviceAuthorizationEndpoint or issuer/],
    [{ deviceAuthorizationEndpoint: endpoint, issuer, clientId: 'tv' }, /exactly one of/],
    [
      { deviceAuthorizationEndpoint: 'http://as.example/device', clientId: 'tv', clientAuth: 'none' },
      /deviceAuthorizationEndpoint must be https/,
    ],
    [
      { deviceAuthorizationEndpoint: endpoint, clientId: 'tv', clientSecert: 'x' },
      /unknown option "clientSecert"/,
    ],
    [{ deviceAuthorizationEndpoint: endpoint, clientId: '' }, /clientId must be a non-empty string/],
    [{ deviceAuthorizationEndpoint: endpoint, clientId: 'tv' }, /clientSecret is required/],
  ])('bad options %j are a ConfigError, before any request', async (options, message) => {
    await expect(startDeviceAuthorization(options as never)).rejects.toSatisfy(
      (e: Error) => e instanceof ConfigError && message.test(e.message),
    )
  })
})
