import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createMockAuthServer } from '../src/index.js'
import { demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'
const tokenEndpoint = `${issuer}/token`
describe('DPoP at the token endpoint (RFC 9449)', () => {
  async function proof(key: CryptoKeyPair, claims: Record<string, unknown> = {}) {
    return new SignJWT({ htm: 'POST', htu: tokenEndpoint, ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .sign(key.privateKey)
  }

  it('binds the token to the proof key (cnf.jkt, token_type DPoP) and refuses a replayed proof', async () => {
    const auth = createMockAuthServer({ issuer })
    const key = (await generateKeyPair('ES256')) as CryptoKeyPair
    const dpop = await proof(key)
    const { status, body } = await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { ...demoBasic, dpop },
    )
    expect(status).toBe(200)
    expect(body.token_type).toBe('DPoP')
    const claims = await auth.verifyAccessToken(body.access_token as string)
    expect(claims?.cnf).toEqual({
      jkt: await calculateJwkThumbprint((await exportJWK(key.publicKey)) as JWK),
    })
    const replay = await postToken(auth, { grant_type: 'client_credentials' }, { ...demoBasic, dpop })
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof' } })
  })

  it('refuses a proof for another URL or method', async () => {
    const auth = createMockAuthServer({ issuer })
    const key = (await generateKeyPair('ES256')) as CryptoKeyPair
    for (const claims of [{ htu: 'https://as.test/other' }, { htm: 'GET' }]) {
      const dpop = await proof(key, claims)
      expect(
        await postToken(auth, { grant_type: 'client_credentials' }, { ...demoBasic, dpop }),
      ).toMatchObject({
        status: 400,
        body: { error: 'invalid_dpop_proof' },
      })
    }
  })

  it('with dpopNonce, demands its nonce first (use_dpop_nonce + DPoP-Nonce), before spending anything', async () => {
    const auth = createMockAuthServer({ issuer, dpopNonce: true })
    const key = (await generateKeyPair('ES256')) as CryptoKeyPair
    const first = await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { ...demoBasic, dpop: await proof(key) },
    )
    expect(first).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } })
    const nonce = first.headers.get('dpop-nonce')
    expect(nonce).toMatch(/^[\w-]{20,}$/)
    expect(auth.stats.tokensIssued).toBe(0)
    const second = await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { ...demoBasic, dpop: await proof(key, { nonce }) },
    )
    expect(second.status).toBe(200)
  })
})

it('advertises the DPoP algorithms and the new grants in its metadata', async () => {
  const auth = createMockAuthServer({ issuer })
  const metadata = await (
    await auth.handle(new Request(`${issuer}/.well-known/oauth-authorization-server`))
  ).json()
  expect(metadata.dpop_signing_alg_values_supported).toContain('ES256')
  expect(metadata.grant_types_supported).toEqual(
    expect.arrayContaining([
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]),
  )
})
