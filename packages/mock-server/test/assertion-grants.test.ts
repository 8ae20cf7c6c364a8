import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createMockAuthServer } from '../src/index.js'
import { demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
describe('token exchange and JWT bearer grants', () => {
  it('exchanges an active token of this server, with issued_token_type, and refuses an unknown one', async () => {
    const auth = createMockAuthServer({ issuer })
    const user = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    const exchange = (subject_token: string) =>
      postToken(
        auth,
        {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience: 'https://orders.test',
        },
        demoBasic,
      )
    const ok = await exchange(user.body.access_token as string)
    expect(ok.body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token')
    expect(await auth.verifyAccessToken(ok.body.access_token as string)).toMatchObject({
      sub: 'alice',
      aud: 'https://orders.test',
    })
    expect(await exchange('not-a-token')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  it('accepts a JWT bearer assertion signed by the client’s key, for its subject', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'svc', clientSecret: 's', jwks: { keys: [await exportJWK(publicKey)] } }],
    })
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('svc')
      .setSubject('alice')
      .setAudience(issuer)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey)
    const { status, body } = await postToken(auth, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
      client_id: 'svc',
      client_secret: 's',
    })
    expect(status).toBe(200)
    expect(await auth.verifyAccessToken(body.access_token as string)).toMatchObject({
      sub: 'alice',
      username: 'alice',
    })
  })
})
