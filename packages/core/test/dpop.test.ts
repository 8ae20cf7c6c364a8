import { createHash } from 'node:crypto'
import { server } from '@tokenwell/mock-server/msw'
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, type JWTPayload, jwtVerify } from 'jose'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { createDpop, createDpopProof, dpopNonceChallenge } from '../src/dpop/index.js'
import {
  authorizationHeader,
  createTokenProvider,
  DpopError,
  TokenResponseError,
  type TokenwellError,
} from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'

async function verifyProof(proof: string | null) {
  const { payload, protectedHeader } = await jwtVerify(proof ?? '', EmbeddedJWK, { typ: 'dpop+jwt' })
  return { payload, header: protectedHeader, jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK) }
}

/** A DPoP token endpoint: binds tokens to the proof's key; with `nonce`, demands it (RFC 9449 §8). */
function dpopServer(options: { nonce?: string | (() => string); omitNonceHeader?: boolean } = {}) {
  const seen: { payload: JWTPayload; header: Record<string, unknown>; jkt: string }[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const proof = await verifyProof(request.headers.get('dpop'))
      seen.push(proof)
      const nonce = typeof options.nonce === 'function' ? options.nonce() : options.nonce
      if (nonce !== undefined && proof.payload.nonce !== nonce) {
        return HttpResponse.json(
          { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' },
          { status: 400, headers: options.omitNonceHeader ? {} : { 'DPoP-Nonce': nonce } },
        )
      }
      return HttpResponse.json(
        { access_token: `bound-to-${proof.jkt}`, token_type: 'DPoP', expires_in: 300 },
        { headers: nonce ? { 'DPoP-Nonce': nonce } : {} },
      )
    }),
  )
  return seen
}

describe('DPoP on token requests (RFC 9449)', () => {
  it('sends a proof with htm, htu, iat and a fresh jti, and accepts token_type DPoP', async () => {
    const seen = dpopServer()
    const provider = createTokenProvider({
      tokenEndpoint: `${tokenEndpoint}?x=1`,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    })
    const token = await provider.getToken()
    await provider.getToken({ forceRefresh: true })
    const [first, second] = seen
    expect(first!.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
    expect(first!.header.jwk).not.toHaveProperty('d')
    expect(first!.payload).toMatchObject({ htm: 'POST', htu: tokenEndpoint })
    expect(first!.payload).not.toHaveProperty('ath')
    expect(Math.abs(first!.payload.iat! - Date.now() / 1000)).toBeLessThan(5)
    expect(second!.payload.jti).not.toBe(first!.payload.jti)
    // one key per provider: both proofs, and the token, name the same thumbprint
    expect(second!.jkt).toBe(first!.jkt)
    expect(token.tokenType).toBe('DPoP')
    expect(token.accessToken).toBe(`bound-to-${await provider.dpop!.thumbprint()}`)
    expect(authorizationHeader(token)).toMatch(/^DPoP bound-to-/)
  })

  it('gives two providers two keys, and a supplied key pair is used as is', async () => {
    const seen = dpopServer()
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    }).getToken()
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    }).getToken()
    expect(seen[0]!.jkt).not.toBe(seen[1]!.jkt)
    const key = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop({ key }),
    }).getToken()
    expect(seen[2]!.header.alg).toBe('EdDSA')
    expect(seen[2]!.jkt).toBe(
      await calculateJwkThumbprint((await crypto.subtle.exportKey('jwk', key.publicKey)) as JWK),
    )
  })

  it('retries once with the DPoP-Nonce the server demands, then keeps using it', async () => {
    const seen = dpopServer({ nonce: 'n-1' })
    const provider = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    })
    await provider.getToken()
    expect(seen.map((s) => s.payload.nonce)).toEqual([undefined, 'n-1'])
    await provider.getToken({ forceRefresh: true })
    expect(seen.map((s) => s.payload.nonce)).toEqual([undefined, 'n-1', 'n-1'])
    expect(provider.dpop!.nonceFor(tokenEndpoint)).toBe('n-1')
  })

  it('fails with DpopError after exactly one retry when the server keeps demanding a new nonce', async () => {
    let n = 0
    const seen = dpopServer({ nonce: () => `n-${++n}` })
    const provider = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(DpopError)
    expect(error.code).toBe('ERR_DPOP')
    expect(error.message).toMatch(/again after one retry/)
    expect(seen).toHaveLength(2)
  })

  it('fails with DpopError at once when the nonce demand comes without a DPoP-Nonce header', async () => {
    const seen = dpopServer({ nonce: 'n', omitNonceHeader: true })
    const provider = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    })
    await expect(provider.getToken()).rejects.toThrow(/sent no DPoP-Nonce header/)
    expect(seen).toHaveLength(1)
  })

  it('without dpop, a DPoP-bound token is refused as an unsupported token_type', async () => {
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json({ access_token: 'a', token_type: 'DPoP', expires_in: 60 }),
      ),
    )
    const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's' })
    await expect(provider.getToken()).rejects.toBeInstanceOf(TokenResponseError)
    expect(provider.dpop).toBeUndefined()
  })

  it('rejects a dpop option that is not createDpop(), and a key that is not a CryptoKeyPair', () => {
    const base = { tokenEndpoint, clientId: 'c', clientSecret: 's' }
    for (const dpop of ['yes', true, { key: {} }])
      expect(() => createTokenProvider({ ...base, dpop: dpop as never })).toThrow(
        /dpop takes createDpop\(\) from @tokenwell\/core\/dpop/,
      )
    expect(() => createDpop({ key: {} as CryptoKeyPair })).toThrow(/dpop.key must be a CryptoKeyPair/)
    expect(() => createDpop({ kee: 1 } as never)).toThrow(/unknown option "dpop.kee"/)
  })
})

describe('DPoP proofs for API requests (the adapters contract)', () => {
  it('provider.dpop.proof adds ath for the access token and the nonce remembered for that origin only', async () => {
    dpopServer()
    const provider = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      dpop: createDpop(),
    })
    const token = await provider.getToken()
    const api = 'https://api.test/orders?page=2#top'
    provider.dpop!.rememberNonce(api, new Headers({ 'DPoP-Nonce': 'api-nonce' }))
    const proof = await verifyProof(
      await provider.dpop!.proof({ method: 'get', url: api, accessToken: token.accessToken }),
    )
    const ath = createHash('sha256').update(token.accessToken).digest('base64url')
    expect(proof.payload).toMatchObject({
      htm: 'GET',
      htu: 'https://api.test/orders',
      ath,
      nonce: 'api-nonce',
    })
    expect(proof.jkt).toBe(await provider.dpop!.thumbprint())

    const other = await verifyProof(
      await provider.dpop!.proof({ method: 'POST', url: 'https://other.test/x' }),
    )
    expect(other.payload).not.toHaveProperty('nonce')
    const explicit = await verifyProof(
      await provider.dpop!.proof({ method: 'POST', url: api, nonce: 'given' }),
    )
    expect(explicit.payload.nonce).toBe('given')
    // headers without a nonce, or a malformed one, change nothing
    provider.dpop!.rememberNonce(api, new Headers())
    provider.dpop!.rememberNonce(api, 'bad "nonce"')
    expect(provider.dpop!.nonceFor(api)).toBe('api-nonce')
  })

  it('createDpopProof builds a proof from a key pair alone', async () => {
    const key = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const proof = await verifyProof(
      await createDpopProof(key, { method: 'PUT', url: 'https://api.test/a', now: 1_700_000_000_000 }),
    )
    expect(proof.payload).toMatchObject({ htm: 'PUT', htu: 'https://api.test/a', iat: 1_700_000_000 })
  })

  it('dpopNonceChallenge reads a resource server nonce demand and nothing else', () => {
    const challenge = (status: number, headers: Record<string, string>) =>
      dpopNonceChallenge({ status, headers: new Headers(headers) })
    expect(
      challenge(401, {
        'WWW-Authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce"',
        'DPoP-Nonce': 'n1',
      }),
    ).toBe('n1')
    expect(
      challenge(401, {
        'WWW-Authenticate': 'Bearer realm="x", DPoP algs="ES256", error="use_dpop_nonce"',
        'DPoP-Nonce': 'n2',
      }),
    ).toBe('n2')
    expect(
      challenge(401, { 'WWW-Authenticate': 'DPoP error="invalid_token"', 'DPoP-Nonce': 'n3' }),
    ).toBeUndefined()
    expect(
      challenge(400, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'n4' }),
    ).toBeUndefined()
    expect(
      challenge(401, { 'WWW-Authenticate': 'Bearer error="use_dpop_nonce"', 'DPoP-Nonce': 'n5' }),
    ).toBeUndefined()
  })
})
