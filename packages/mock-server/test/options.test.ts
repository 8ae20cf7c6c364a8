import { inspect } from 'node:util'
import { isTokenwellError } from '@tokenwell/core'
import { describe, expect, it } from 'vitest'
import { ConfigError, createMockAuthServer, type MockAuthServerOptions } from '../src/index.js'
import { demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'

describe('options', () => {
  it.each<[string, Partial<MockAuthServerOptions> & { issuer?: string }, RegExp]>([
    ['a typo in an option name', { tokenLifeTime: 5 } as never, /unknown option: tokenLifeTime/],
    ['a negative lifetime', { tokenLifetime: -1 }, /tokenLifetime must be/],
    ['a non-numeric latency', { latency: Number.NaN }, /latency must be/],
    ['a client without id', { clients: [{ clientId: '' }] }, /clients\[0\]\.clientId/],
    [
      'a duplicate client',
      { clients: [{ clientId: 'a' }, { clientId: 'a' }] },
      /clients\[1\]\.clientId is a duplicate/,
    ],
    ['a relative issuer', { issuer: '/as' }, /issuer must be an absolute/],
  ])('refuses %s with a ConfigError naming the option', (_name, options, message) => {
    const create = () => createMockAuthServer({ issuer, ...options })
    expect(create).toThrow(ConfigError)
    expect(create).toThrow(message)
    try {
      create()
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_CONFIG', name: 'ConfigError' })
      expect(isTokenwellError(error)).toBe(true) // core recognises it without a shared class
    }
  })

  it('refuses a bad value passed to a setter', () => {
    const auth = createMockAuthServer({ issuer })
    expect(() => auth.setLatency(-5)).toThrow(ConfigError)
    expect(() => auth.setTokenLifetime(Number.POSITIVE_INFINITY)).toThrow(ConfigError)
  })
})

describe('secrets', () => {
  it('never show in util.inspect or JSON of the server, its stats or its log', async () => {
    const secrets = ['client-secret-value', 'user-password-value']
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'c', clientSecret: secrets[0]! }],
      users: [{ username: 'u', password: secrets[1]! }],
    })
    const { body } = await postToken(auth, {
      grant_type: 'password',
      username: 'u',
      password: secrets[1]!,
      client_id: 'c',
      client_secret: secrets[0]!,
    })
    secrets.push(body.access_token as string, body.refresh_token as string)
    await postToken(auth, {
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token as string,
      client_id: 'c',
      client_secret: secrets[0]!,
    })
    await postToken(auth, {
      grant_type: 'password',
      username: 'u',
      password: 'wrong',
      client_id: 'c',
      client_secret: 'bad',
    })
    await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    const texts = [
      inspect(auth, { depth: 10, showHidden: true }),
      JSON.stringify(auth.requests),
      JSON.stringify(auth.stats),
    ]
    for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret)
  })

  it('never show in error descriptions', async () => {
    const auth = createMockAuthServer({ issuer })
    const res = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: 'my-precious-refresh' },
      demoBasic,
    )
    expect(JSON.stringify(res.body)).not.toContain('my-precious-refresh')
  })
})
