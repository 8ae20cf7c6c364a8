import { describe, expect, it } from 'vitest'
import { ConfigError, createMockAuthServer, type MockAuthServerOptions } from '../src/index.js'
import { basic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'

function setup(options: Partial<MockAuthServerOptions> = {}) {
  let now = Date.UTC(2030, 0, 1)
  const auth = createMockAuthServer({
    issuer,
    clients: [
      { clientId: 'tv' },
      { clientId: 'svc', clientSecret: 'svc-secret' },
      { clientId: 'other' },
      { clientId: 'no-device', grantTypes: ['client_credentials'] },
    ],
    users: [
      { username: 'alice', password: 'a' },
      { username: 'bob', password: 'b' },
    ],
    scopes: ['openid', 'offline_access', 'read'],
    clock: () => now,
    ...options,
  })
  const tick = (ms: number) => {
    now += ms
  }
  /** POSTs to /device_authorization. */
  const start = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    postToken(auth, params, headers, auth.deviceAuthorizationEndpoint)
  const poll = (deviceCode: string, clientId = 'tv') =>
    postToken(auth, { grant_type: DEVICE, device_code: deviceCode, client_id: clientId })
  return { auth, tick, start, poll }
}

describe('device authorization endpoint (RFC 8628 §3.1, §3.2)', () => {
  it('is advertised in the metadata, with the device_code grant', async () => {
    const { auth } = setup()
    const metadata = await (
      await auth.handle(new Request(`${issuer}/.well-known/oauth-authorization-server`))
    ).json()
    expect(metadata.device_authorization_endpoint).toBe(`${issuer}/device_authorization`)
    expect(metadata.grant_types_supported).toContain(DEVICE)
  })

  it('answers a device code, a user code, where to go, the lifetime and the interval', async () => {
    const { auth, start } = setup({ deviceCodeLifetime: 900, deviceInterval: 3 })
    const { status, headers, body } = await start({ client_id: 'tv', scope: 'openid read' })
    expect(status).toBe(200)
    expect(headers.get('cache-control')).toBe('no-store')
    expect(body).toEqual({
      device_code: expect.stringMatching(/^[\w-]{43}$/),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${issuer}/device`,
      verification_uri_complete: `${issuer}/device?user_code=${body.user_code}`,
      expires_in: 900,
      interval: 3,
    })
    expect(auth.verificationUri).toBe(`${issuer}/device`)
    expect(auth.stats.deviceAuthorizationRequests).toBe(1)
    expect((await start({ client_id: 'tv' })).body.user_code).not.toBe(body.user_code)
  })

  it('authenticates a confidential client, and refuses bad clients, scopes and methods', async () => {
    const { auth, start } = setup()
    expect((await start({}, { authorization: basic('svc', 'svc-secret') })).status).toBe(200)
    expect(await start({}, { authorization: basic('svc', 'wrong') })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    })
    expect(await start({ client_id: 'svc' })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    })
    expect(await start({ client_id: 'tv', scope: 'admin' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_scope' },
    })
    expect(await start({ client_id: 'no-device' })).toMatchObject({
      status: 400,
      body: { error: 'unauthorized_client' },
    })
    const get = await auth.handle(new Request(auth.deviceAuthorizationEndpoint))
    expect(get.status).toBe(405)
  })
})

describe('device code grant (RFC 8628 §3.4, §3.5)', () => {
  it('pending until approved, then tokens once, for the approving user', async () => {
    const { auth, start, poll, tick } = setup()
    const { body } = await start({ client_id: 'tv', scope: 'openid offline_access' })
    const deviceCode = body.device_code as string
    expect(await poll(deviceCode)).toMatchObject({ status: 400, body: { error: 'authorization_pending' } })
    tick(5_000)
    expect(await poll(deviceCode)).toMatchObject({ status: 400, body: { error: 'authorization_pending' } })
    // case and the dash do not matter (RFC 8628 §6.1)
    const typed = (body.user_code as string).toLowerCase().replace('-', '')
    expect(auth.approveDevice(typed, { username: 'bob' })).toBe(true)
    expect(auth.approveDevice(typed)).toBe(false) // already decided
    tick(5_000)
    const granted = await poll(deviceCode)
    expect(granted.status).toBe(200)
    expect(granted.body).toMatchObject({ token_type: 'Bearer', scope: 'openid offline_access' })
    expect(granted.body.refresh_token).toEqual(expect.any(String))
    expect(await auth.verifyAccessToken(granted.body.access_token as string)).toMatchObject({
      sub: 'bob',
      client_id: 'tv',
    })
    tick(5_000)
    expect(await poll(deviceCode)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    expect(auth.stats.byGrant[DEVICE]).toBe(4)
    expect(auth.stats.tokensIssued).toBe(1)
    expect(JSON.stringify(auth.requests)).not.toContain(deviceCode)
    expect(auth.requests[0]?.params.device_code).toBe('[REDACTED]')
  })

  it('slow_down for a poll sooner than the interval, which then grows by 5 s', async () => {
    const { start, poll, tick } = setup()
    const deviceCode = (await start({ client_id: 'tv' })).body.device_code as string
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending')
    tick(4_000)
    expect((await poll(deviceCode)).body.error).toBe('slow_down')
    tick(5_000) // enough before, not now: the interval is 10 s
    expect((await poll(deviceCode)).body.error).toBe('slow_down')
    tick(15_000)
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending')
    tick(15_000)
    expect((await poll(deviceCode)).body.error).toBe('authorization_pending')
  })

  it('access_denied once the user denies; expired_token after the lifetime', async () => {
    const { auth, start, poll, tick } = setup({ deviceCodeLifetime: 60 })
    const denied = (await start({ client_id: 'tv' })).body
    expect(auth.denyDevice(denied.user_code as string)).toBe(true)
    expect(auth.approveDevice(denied.user_code as string)).toBe(false)
    expect(await poll(denied.device_code as string)).toMatchObject({
      status: 400,
      body: { error: 'access_denied' },
    })

    const late = (await start({ client_id: 'tv' })).body
    tick(60_000)
    expect(auth.approveDevice(late.user_code as string)).toBe(false)
    expect(await poll(late.device_code as string)).toMatchObject({
      status: 400,
      body: { error: 'expired_token' },
    })
  })

  it('a device code of another client, or an unknown one, is invalid_grant', async () => {
    const { auth, start, poll } = setup()
    const { body } = await start({ client_id: 'tv' })
    auth.approveDevice(body.user_code as string)
    expect((await poll(body.device_code as string, 'other')).body.error).toBe('invalid_grant')
    expect((await poll('nope')).body.error).toBe('invalid_grant')
    expect((await postToken(auth, { grant_type: DEVICE, client_id: 'tv' })).body.error).toBe(
      'invalid_request',
    )
    expect((await poll(body.device_code as string)).status).toBe(200) // still good for its own client
  })

  it('approveDevice: false for an unknown code, ConfigError for an unknown user', async () => {
    const { auth, start } = setup()
    expect(auth.approveDevice('BCDF-GHJK')).toBe(false)
    expect(auth.denyDevice('BCDF-GHJK')).toBe(false)
    const { body } = await start({ client_id: 'tv' })
    expect(() => auth.approveDevice(body.user_code as string, { username: 'mallory' })).toThrow(ConfigError)
    expect(() => createMockAuthServer({ issuer, deviceInterval: -1 })).toThrow(/deviceInterval must be/)
    expect(() => createMockAuthServer({ issuer, deviceCodeLifetime: Number.NaN })).toThrow(ConfigError)
  })
})

describe('verification page /device (RFC 8628 §3.3)', () => {
  it('shows a form with the code filled in (escaped), and approves or denies on POST', async () => {
    const { auth, start, poll } = setup()
    const page = await auth.handle(new Request(`${issuer}/device?user_code=<script>x</script>`))
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    expect(html).toContain('<form method="post">')
    expect(html).not.toContain('<script>')

    const submit = (form: Record<string, string>) =>
      auth.handle(new Request(auth.verificationUri, { method: 'POST', body: new URLSearchParams(form) }))
    const { body } = await start({ client_id: 'tv' })
    const approved = await submit({ user_code: body.user_code as string, action: 'approve' })
    expect(approved.status).toBe(200)
    expect(await approved.text()).toContain('Device approved')
    expect((await poll(body.device_code as string)).status).toBe(200)
    expect((await submit({ user_code: body.user_code as string, action: 'approve' })).status).toBe(400)

    const other = (await start({ client_id: 'tv' })).body
    expect(await (await submit({ user_code: other.user_code as string, action: 'deny' })).text()).toContain(
      'Request denied',
    )
    expect((await poll(other.device_code as string)).body.error).toBe('access_denied')
  })
})
