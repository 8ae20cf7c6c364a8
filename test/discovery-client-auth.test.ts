import { createTokenProvider, DiscoveryError, OAuthError, type TokenwellError } from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { clientSecretJwt, privateKeyJwt } from '@tokenwell/core/jwt'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateEs256, publicJwk } from './helpers/jwt.js'

// Discovery and JWT client authentication end to end: core against the mock server over loopback HTTP.
let auth: RunningMockAuthServer
let keys: CryptoKeyPair
let otherKeys: CryptoKeyPair
const SECRET = 'hs256-secret-for-client-secret-jwt-0123456789'

beforeAll(async () => {
  keys = await generateEs256()
  otherKeys = await generateEs256()
  const jwk = await publicJwk(keys, { kid: 'svc-key-1', alg: 'ES256' })
  auth = await startMockAuthServer({
    clients: [
      { clientId: 'demo-client', clientSecret: 'demo-secret' },
      { clientId: 'jwt-client', jwks: { keys: [jwk] }, authMethods: ['private_key_jwt'] },
      { clientId: 'hmac-client', clientSecret: SECRET, authMethods: ['client_secret_jwt'] },
    ],
  })
})
afterAll(() => auth?.close())

describe('discovery against the mock server (RFC 8414)', () => {
  it('reads the metadata once for 100 concurrent callers, then one token request', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({
      discovery,
      issuer: auth.issuer,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
    })
    const tokens = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(auth.stats.tokenRequests).toBe(1)
    expect(provider.keyInfo.tokenEndpoint).toBe(auth.tokenEndpoint)
    expect(await auth.verifyAccessToken(tokens[0]!.accessToken)).toMatchObject({ client_id: 'demo-client' })
  })

  it('refuses an issuer whose metadata names another issuer (a look-alike URL)', async () => {
    auth.stats.reset()
    const lookAlike = auth.issuer.replace('127.0.0.1', 'localhost')
    const provider = createTokenProvider({
      discovery,
      issuer: lookAlike,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      retry: false,
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(DiscoveryError)
    expect(error.code).toBe('ERR_DISCOVERY')
    expect(auth.stats.tokenRequests).toBe(0)
  })
})

describe('JWT client authentication against the mock server (RFC 7523 §2.2)', () => {
  it('private_key_jwt with a CryptoKey and kid, discovered endpoint; every request signs a new assertion', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({
      issuer: auth.issuer,
      clientId: 'jwt-client',
      discovery,
      clientAuth: privateKeyJwt({ privateKey: keys.privateKey, keyId: 'svc-key-1' }),
    })
    const first = await provider.getToken()
    const second = await provider.getToken({ forceRefresh: true })
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(auth.stats.tokensIssued).toBe(2) // a reused jti would have been refused
    expect(auth.requests.map((r) => r.clientAuth)).toEqual(['private_key_jwt', 'private_key_jwt'])
    expect(await auth.verifyAccessToken(second.accessToken)).toMatchObject({ client_id: 'jwt-client' })
  })

  it('private_key_jwt with a key the server does not know is an invalid_client OAuthError', async () => {
    const provider = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'jwt-client',
      clientAuth: privateKeyJwt({ privateKey: otherKeys.privateKey }),
      retry: false,
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as OAuthError
    expect(error).toBeInstanceOf(OAuthError)
    expect(error.error).toBe('invalid_client')
  })

  it('client_secret_jwt signs with the shared secret, which never travels', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'hmac-client',
      clientSecret: SECRET,
      clientAuth: clientSecretJwt(),
    })
    const token = await provider.getToken()
    expect(await auth.verifyAccessToken(token.accessToken)).toMatchObject({ client_id: 'hmac-client' })
    expect(auth.requests[0]!.clientAuth).toBe('client_secret_jwt')
    expect(JSON.stringify(auth.requests)).not.toContain(SECRET)
  })
})
