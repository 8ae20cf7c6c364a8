import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createMockAuthServer } from '../src/index.js'
import { postToken } from './helpers.js'

const issuer = 'https://as.test'
const tokenEndpoint = `${issuer}/token`
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

async function clientAssertion(
  key: CryptoKey | Uint8Array,
  alg: string,
  claims: Record<string, unknown> = {},
) {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg })
    .setIssuer('svc')
    .setSubject('svc')
    .setAudience(tokenEndpoint)
    .setIssuedAt()
    .setExpirationTime('1m')
    .setJti(crypto.randomUUID())
    .sign(key)
}

describe('JWT client authentication (RFC 7523 §2.2)', () => {
  it('accepts private_key_jwt signed by a registered key, once per jti', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'svc', jwks: { keys: [await exportJWK(publicKey)] } }],
    })
    const assertion = await clientAssertion(privateKey, 'ES256')
    const params = {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    }
    const ok = await postToken(auth, params)
    expect(ok.status).toBe(200)
    expect(auth.requests[0]).toMatchObject({ clientAuth: 'private_key_jwt', clientId: 'svc' })
    const replay = await postToken(auth, params)
    expect(replay).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
  })

  it('refuses an unknown key, a wrong audience and an expired assertion', async () => {
    const { publicKey } = await generateKeyPair('ES256')
    const other = await generateKeyPair('ES256')
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'svc', jwks: { keys: [await exportJWK(publicKey)] } }],
    })
    const post = async (assertion: string) =>
      postToken(auth, {
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
      })
    expect(await post(await clientAssertion(other.privateKey, 'ES256'))).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    })
    expect(auth.stats.tokensIssued).toBe(0)
  })

  it('refuses a wrong audience, an expired assertion and one naming another client', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const auth = createMockAuthServer({
      issuer,
      clients: [
        { clientId: 'svc', jwks: { keys: [await exportJWK(publicKey)] } },
        { clientId: 'other', clientSecret: 'x' },
      ],
    })
    const post = async (assertion: string, extra: Record<string, string> = {}) =>
      postToken(auth, {
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
        ...extra,
      })
    const wrongAudience = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('svc')
      .setSubject('svc')
      .setAudience('https://elsewhere.test')
      .setExpirationTime('1m')
      .setJti('a')
      .sign(privateKey)
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('svc')
      .setSubject('svc')
      .setAudience(issuer)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .setJti('b')
      .sign(privateKey)
    expect((await post(wrongAudience)).body.error).toBe('invalid_client')
    expect((await post(expired)).body.error).toBe('invalid_client')
    expect((await post(await clientAssertion(privateKey, 'ES256'), { client_id: 'other' })).body.error).toBe(
      'invalid_client',
    )
    expect(auth.stats.tokensIssued).toBe(0)
  })

  it('accepts client_secret_jwt (HS256 with the client secret) and refuses a wrong secret', async () => {
    const secret = 'a-long-enough-secret-for-hs256-0123456789'
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'svc', clientSecret: secret, authMethods: ['client_secret_jwt'] }],
    })
    const post = async (key: string) =>
      postToken(auth, {
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(new TextEncoder().encode(key), 'HS256'),
      })
    expect((await post(secret)).status).toBe(200)
    expect(auth.requests[0]!.clientAuth).toBe('client_secret_jwt')
    expect(await post('wrong-secret-wrong-secret-wrong-secret')).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    })
  })

  it('advertises the JWT methods in its metadata', async () => {
    const auth = createMockAuthServer({ issuer })
    const metadata = await (
      await auth.handle(new Request(`${issuer}/.well-known/oauth-authorization-server`))
    ).json()
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['private_key_jwt', 'client_secret_jwt']),
    )
  })
})
