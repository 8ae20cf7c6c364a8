import { createTokenProvider, OAuthError } from '@tokenwell/core'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateEs256, publicJwk, signEs256 } from './helpers/jwt.js'

// Token exchange (RFC 8693) and the JWT bearer grant (RFC 7523 §2.1) against the mock server.
let auth: RunningMockAuthServer
let keys: CryptoKeyPair

beforeAll(async () => {
  keys = await generateEs256()
  auth = await startMockAuthServer({
    clients: [
      { clientId: 'frontend', clientSecret: 'frontend-secret' },
      { clientId: 'gateway', clientSecret: 'gateway-secret' },
      {
        clientId: 'assertion-client',
        clientSecret: 'assertion-secret',
        jwks: { keys: [await publicJwk(keys)] },
      },
    ],
  })
})
afterAll(() => auth?.close())

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

describe('token exchange (RFC 8693)', () => {
  it('exchanges a user token for one aimed at another audience, the subject token read per request', async () => {
    const alice = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'frontend',
      clientSecret: 'frontend-secret',
      grant: { type: 'password', username: 'alice', password: 'alice-password' },
      scope: 'orders:read orders:write',
    })
    let reads = 0
    const exchanged = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'gateway',
      clientSecret: 'gateway-secret',
      audience: 'https://orders.internal',
      scope: 'orders:read',
      grant: {
        type: TOKEN_EXCHANGE,
        subjectToken: async () => {
          reads++
          return (await alice.getToken()).accessToken
        },
      },
    })
    const token = await exchanged.getToken()
    expect(token.raw.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token')
    expect(await auth.verifyAccessToken(token.accessToken)).toMatchObject({
      sub: 'alice',
      aud: 'https://orders.internal',
      client_id: 'gateway',
      scope: 'orders:read',
    })
    await exchanged.getToken({ forceRefresh: true })
    expect(reads).toBe(2)
  })

  it('a revoked subject token is refused with invalid_grant', async () => {
    const user = await createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'frontend',
      clientSecret: 'frontend-secret',
      grant: { type: 'password', username: 'alice', password: 'alice-password' },
    }).getToken()
    auth.revokeAll()
    const exchanged = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'gateway',
      clientSecret: 'gateway-secret',
      grant: { type: TOKEN_EXCHANGE, subjectToken: user.accessToken },
    })
    await expect(exchanged.getToken()).rejects.toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_grant' })
  })
})

describe('JWT bearer grant (RFC 7523 §2.1)', () => {
  const assertion = (sub: string, key = keys.privateKey) => {
    const iat = Math.floor(Date.now() / 1000)
    return signEs256(
      { iss: 'assertion-client', sub, aud: auth.issuer, iat, exp: iat + 60, jti: crypto.randomUUID() },
      key,
    )
  }

  it('trades a signed assertion (from an async function) for a token for its subject', async () => {
    const provider = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'assertion-client',
      clientSecret: 'assertion-secret',
      grant: { type: JWT_BEARER, assertion: () => assertion('alice') },
    })
    const token = await provider.getToken()
    expect(await auth.verifyAccessToken(token.accessToken)).toMatchObject({
      sub: 'alice',
      client_id: 'assertion-client',
    })
  })

  it('an assertion signed by an unknown key is an invalid_grant OAuthError', async () => {
    const stranger = await generateEs256()
    const provider = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'assertion-client',
      clientSecret: 'assertion-secret',
      retry: false,
      grant: { type: JWT_BEARER, assertion: await assertion('alice', stranger.privateKey) },
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as OAuthError
    expect(error).toBeInstanceOf(OAuthError)
    expect(error.error).toBe('invalid_grant')
  })
})
