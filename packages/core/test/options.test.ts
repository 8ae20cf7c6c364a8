import { describe, expect, it } from 'vitest'
import { discovery } from '../src/discovery/index.js'
import { ConfigError, createTokenProvider, type TokenProviderOptions } from '../src/index.js'

const base: TokenProviderOptions = {
  tokenEndpoint: 'https://as.test/token',
  clientId: 'c',
  clientSecret: 'sekrit-value',
}

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['a missing client id', { clientId: undefined }, /clientId must be a non-empty string/],
  ['an empty client id', { clientId: ' ' }, /clientId must be a non-empty string/],
  ['a relative endpoint', { tokenEndpoint: '/token' }, /tokenEndpoint must be an absolute http\(s\) URL/],
  [
    'a non-http endpoint',
    { tokenEndpoint: 'ftp://as.test/token' },
    /tokenEndpoint must be an absolute http\(s\) URL/,
  ],
  ['plain http to a remote host', { tokenEndpoint: 'http://as.example/token' }, /must be https:/],
  [
    'credentials in the endpoint',
    { tokenEndpoint: 'https://u:sekrit-value@as.test/token' },
    /must not contain credentials/,
  ],
  [
    'a missing secret',
    { clientSecret: undefined },
    /clientSecret is required for clientAuth "client_secret_basic"/,
  ],
  ['an unknown client auth', { clientAuth: 'magic' }, /clientAuth must be one of/],
  ['a typo in an option name', { clientSecert: 'x' }, /unknown option "clientSecert"/],
  ['a password grant without username', { grant: { type: 'password', password: 'p' } }, /grant\.username/],
  ['a refresh grant without refresh token', { grant: { type: 'refresh_token' } }, /grant\.refreshToken/],
  ['an unknown grant', { grant: { type: 'implicit' } }, /grant\.type must be one of/],
  ['a negative refreshSkew', { refreshSkew: -1 }, /refreshSkew must be a number of milliseconds/],
  ['a NaN timeout', { timeout: Number.NaN }, /timeout must be a number of milliseconds/],
  ['a relative resource', { resource: 'orders' }, /resource must be an absolute URI/],
  ['a resource with a fragment', { resource: 'https://r.example/#x' }, /without a fragment/],
  ['a scope entry with a space', { scope: ['a b'] }, /scope entries must be strings without spaces/],
  [
    'extraParams overriding grant_type',
    { extraParams: { grant_type: 'password' } },
    /extraParams\.grant_type is set by tokenwell/,
  ],
  ['a refreshAhead that is not a boolean', { refreshAhead: 'yes' }, /refreshAhead must be true or false/],
  ['retry attempts of zero', { retry: { attempts: 0 } }, /retry\.attempts must be an integer/],
  // the table-driven checks: each number option with its least value, null inside retry too
  [
    'a retry minDelay of null',
    { retry: { minDelay: null } },
    /retry\.minDelay must be a number of milliseconds ≥ 0/,
  ],
  ['a fractional maxResponseBytes', { maxResponseBytes: 1.5 }, /maxResponseBytes must be an integer ≥ 1/],
  ['a zero lockTtl', { lockTtl: 0 }, /lockTtl must be a number of milliseconds ≥ 1/],
  ['a clock that is not a function', { clock: 5 }, /clock must be a function/],
  ['a dpop of null', { dpop: null }, /dpop takes createDpop\(\) from @tokenwell\/core\/dpop/],
  ['a revocation that is not the plug-in', { revocation: {} }, /revocation takes revocation from/],
  // only a JWT bearer assertion and a subject token may be functions
  [
    'a refresh token that is a function',
    { grant: { type: 'refresh_token', refreshToken: () => 'r' } },
    /grant\.refreshToken must be a non-empty string/,
  ],
  [
    'an authorization code without code',
    { grant: { type: 'authorization_code', redirectUri: 'https://app.test/cb' } },
    /grant\.code must be a non-empty string/,
  ],
  [
    'an issuer with a query',
    { tokenEndpoint: undefined, issuer: 'https://as.test/?x=1', discovery },
    /issuer must not contain a query/,
  ],
  [
    'a protectedResource over plain http',
    { tokenEndpoint: undefined, protectedResource: 'http://api.example/x', discovery },
    /protectedResource must be https:/,
  ],
  [
    'an issuer without discovery',
    { tokenEndpoint: undefined, issuer: 'https://as.test' },
    /need discovery from @tokenwell\/core\/discovery/,
  ],
]

describe('createTokenProvider options', () => {
  it.each(bad)('rejects %s with a ConfigError naming the option', (_, change, message) => {
    let error: unknown
    try {
      createTokenProvider({ ...base, ...change } as TokenProviderOptions)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe('ERR_CONFIG')
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain('sekrit-value')
  })

  it('allows plain http on loopback and with allowInsecureHttp', () => {
    for (const tokenEndpoint of [
      'http://127.0.0.1:8080/token',
      'http://localhost/token',
      'http://[::1]/token',
    ]) {
      expect(() => createTokenProvider({ ...base, tokenEndpoint })).not.toThrow()
    }
    expect(() =>
      createTokenProvider({ ...base, tokenEndpoint: 'http://as.example/token', allowInsecureHttp: true }),
    ).not.toThrow()
  })

  it('refuses plain http to a name under .localhost in Node, which asks DNS for it', () => {
    expect(() => createTokenProvider({ ...base, tokenEndpoint: 'http://auth.localhost/token' })).toThrow(
      /tokenEndpoint must be https:/,
    )
  })

  it('refuses in extraParams every parameter tokenwell sets itself, and only those', () => {
    const reserved =
      'grant_type client_id client_secret client_assertion client_assertion_type scope audience resource username password refresh_token code redirect_uri code_verifier assertion subject_token subject_token_type actor_token actor_token_type requested_token_type device_code'
    for (const name of reserved.split(' ')) {
      expect(() => createTokenProvider({ ...base, extraParams: { [name]: 'x' } }), name).toThrow(
        `extraParams.${name} is set by tokenwell; use the matching option`,
      )
    }
    expect(() =>
      createTokenProvider({ ...base, extraParams: { prompt: 'x', acr_values: 'y' } }),
    ).not.toThrow()
  })

  it('allows a public client without a secret', () => {
    expect(() => createTokenProvider({ ...base, clientSecret: undefined, clientAuth: 'none' })).not.toThrow()
  })
})
