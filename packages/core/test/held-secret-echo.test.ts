import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { discovery } from '../src/discovery/index.js'
import {
  createTokenProvider,
  type Logger,
  startDeviceAuthorization,
  type TokenEventName,
  type TokenProviderOptions,
} from '../src/index.js'
import { revocation } from '../src/revocation/index.js'
import { channels, countLeaks } from './leak-scan.js'

// Rule 5 for what a server knows without being sent it in the request at hand: the tokens the
// provider holds (its access token while it refreshes, or while it revokes the refresh token),
// the client's secret in a metadata document, and secrets a successful answer echoes.
const EVENTS: TokenEventName[] = ['token', 'token-error', 'refresh-failed', 'invalidated', 'store-error']
const CS = 'cs-"quote\\back+/é😀-7f3a9c'
const AT = 'at-Q2xpZW50U2VjcmV0+/9f8e7d6c5b4a'
const RT = 'rt-8d7c6b5a4f3e2d1c0b9a-\'"x'
const RT2 = 'rt2-0a1b2c3d4e5f6a7b8c9d0e1f'

function observe(options: Partial<TokenProviderOptions>) {
  const lines: string[] = []
  const logger: Logger = {
    debug: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
    warn: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
  }
  const provider = createTokenProvider({
    tokenEndpoint: 'https://as.test/token',
    clientId: 'svc',
    clientSecret: CS,
    clientAuth: 'client_secret_post',
    retry: false,
    logger,
    ...options,
  } as TokenProviderOptions)
  const events: unknown[] = []
  for (const name of EVENTS) provider.on(name, (event) => events.push(event))
  return { provider, events, lines }
}
const leaksIn = (values: unknown[], lines: string[], secrets = [CS, AT, RT, RT2]) =>
  countLeaks(secrets, [], channels(values, lines))
const echo = (status: number) =>
  Response.json(
    { error: 'invalid_grant', error_description: `at=${AT} rt=${RT} rt2=${RT2} cs=${CS}` },
    { status },
  )

describe('no secret the server knows in any text, whatever it echoes (rule 5)', () => {
  it('a successful token response that echoes secrets in its scope: the Token and its events', async () => {
    const { provider, events, lines } = observe({
      fetch: async () =>
        Response.json({
          access_token: AT,
          refresh_token: RT,
          token_type: 'Bearer',
          expires_in: 300,
          scope: `read ${CS} ${RT} ${AT}`,
        }),
    })
    const token = await provider.getToken()
    await provider.close()
    expect(token.accessToken).toBe(AT)
    expect(token.scope).toBe('read [REDACTED] [REDACTED] [REDACTED]')
    const leaks = leaksIn([token, ...events], lines)
    expect(leaks.count, JSON.stringify(leaks.found)).toBe(0)
  })

  it('a refresh whose error echoes the access token the provider still holds: refresh-failed and its log line', async () => {
    let calls = 0
    const { provider, events, lines } = observe({
      grant: { type: 'refresh_token', refreshToken: RT },
      fetch: async () =>
        ++calls === 1
          ? Response.json({ access_token: AT, refresh_token: RT2, token_type: 'Bearer', expires_in: 3600 })
          : echo(400),
    })
    await provider.getToken()
    expect((await provider.getToken({ forceRefresh: true })).accessToken).toBe(AT)
    await provider.close()
    expect(calls).toBe(2)
    const leaks = leaksIn(events, lines)
    expect(leaks.count, JSON.stringify(leaks.found)).toBe(0)
  })

  it('revoke(): a revocation endpoint that echoes the tokens the provider holds', async () => {
    let calls = 0
    const { provider, events, lines } = observe({
      grant: { type: 'refresh_token', refreshToken: RT },
      revocation,
      revocationEndpoint: 'https://as.test/revoke',
      fetch: async (request: Request) => {
        if (new URL(request.url).pathname === '/token') {
          calls++
          return Response.json({
            access_token: AT,
            refresh_token: RT2,
            token_type: 'Bearer',
            expires_in: 3600,
          })
        }
        return echo(400)
      },
    })
    await provider.getToken()
    const error = await provider.revoke().catch((e: unknown) => e)
    await provider.close()
    expect(calls).toBe(1)
    expect(error).toMatchObject({ code: 'ERR_OAUTH' })
    const leaks = leaksIn([error, ...events], lines)
    expect(leaks.count, JSON.stringify(leaks.found)).toBe(0)
  })

  it('a metadata document that puts the client secret in its token endpoint: events and logs', async () => {
    const issuer = 'https://as.test'
    const { provider, events, lines } = observe({
      issuer,
      discovery,
      tokenEndpoint: undefined,
      fetch: async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname.startsWith('/.well-known/'))
          return Response.json({
            issuer,
            token_endpoint: `https://as.test/token?svc=${encodeURIComponent(CS)}`,
          })
        return Response.json({ access_token: AT, token_type: 'Bearer', expires_in: 300 })
      },
    })
    const token = await provider.getToken()
    await provider.close()
    const leaks = leaksIn([token, provider.keyInfo, inspect(provider), ...events], lines)
    expect(leaks.count, JSON.stringify(leaks.found)).toBe(0)
  })

  it('a device authorization whose user code and verification URI echo the device code and the client secret: its printed views', async () => {
    const DC = 'dc-"4f3e2d1c0b9a8f7e6d5c\\x'
    const authorization = await startDeviceAuthorization({
      deviceAuthorizationEndpoint: 'https://as.test/device',
      clientId: 'svc',
      clientSecret: CS,
      fetch: async () =>
        Response.json({
          device_code: DC,
          user_code: `${DC}-${CS}`,
          verification_uri: `https://as.test/device?s=${encodeURIComponent(CS)}`,
          verification_uri_complete: `https://as.test/device?c=${encodeURIComponent(DC)}`,
          expires_in: 600,
        }),
    })
    expect(authorization.deviceCode).toBe(DC)
    const leaks = countLeaks([CS, DC], [], channels([authorization], []))
    expect(leaks.count, JSON.stringify(leaks.found)).toBe(0)
  })
})

describe('a store whose errors quote what it was given (rule 5)', () => {
  it('store-error events and their log lines show no token the store was asked to keep', async () => {
    const quoting = (operation: string) => (_key: string, entry?: unknown) =>
      Promise.reject(
        Object.assign(new Error(`${operation} failed for ${JSON.stringify(entry)}`), {
          command: { name: operation, args: [JSON.stringify(entry)] },
        }),
      )
    const { provider, events, lines } = observe({
      grant: { type: 'refresh_token', refreshToken: RT },
      store: { get: () => Promise.resolve(undefined), set: quoting('set'), delete: quoting('delete') },
      fetch: async () =>
        Response.json({ access_token: AT, refresh_token: RT2, token_type: 'Bearer', expires_in: 3600 }),
    })
    const token = await provider.getToken()
    await provider.invalidate(token)
    await provider.close()
    expect(events.some((e) => (e as { operation?: string }).operation === 'set')).toBe(true)
    const leaks = leaksIn(events, lines)
    expect(leaks.count, JSON.stringify(leaks.found)).toBe(0)
  })
})
