import { createHash } from 'node:crypto'
import { inspect } from 'node:util'
import { server } from '@tokenwell/mock-server/msw'
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from 'jose'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  type AuthResponse,
  createAuthPolicy,
  createToken,
  createTokenProvider,
  DpopError,
  isDpopBound,
  type TokenProvider,
} from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'

/** A provider whose server answers with `tokenType` tokens t1, t2 … */
function providerFor(tokenType: 'DPoP' | 'Bearer', dpop = true): TokenProvider {
  let hits = 0
  server.use(
    http.post(tokenEndpoint, () =>
      HttpResponse.json({ access_token: `t${++hits}`, token_type: tokenType, expires_in: 300 }),
    ),
  )
  return createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', dpop, retry: false })
}

async function claimsOf(proof: string | undefined): Promise<Record<string, unknown>> {
  const { payload, protectedHeader } = await jwtVerify(proof ?? '', EmbeddedJWK, { typ: 'dpop+jwt' })
  return { ...payload, jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK) }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url')

const nonceChallenge = (nonce?: string, status = 401): AuthResponse => ({
  url: 'https://api.test/orders',
  status,
  headers: new Headers({
    'www-authenticate': 'DPoP realm="api", error="use_dpop_nonce", error_description="nonce"',
    ...(nonce !== undefined && { 'dpop-nonce': nonce }),
  }),
})

describe('createAuthPolicy with DPoP (RFC 9449 §7)', () => {
  it('headersFor a DPoP-bound token: Authorization DPoP and a proof naming this method, URL and token', async () => {
    const provider = providerFor('DPoP')
    const policy = createAuthPolicy(provider)
    const token = await provider.getToken()
    expect(isDpopBound(token)).toBe(true)
    const url = new URL('https://api.test/orders/7?page=2#top')
    const headers = await policy.headersFor(token, { method: 'patch', url })
    expect(Object.keys(headers).sort()).toEqual(['authorization', 'dpop'])
    expect(headers.authorization).toBe('DPoP t1')
    const claims = await claimsOf(headers.dpop)
    // §4.2: htu without query and fragment, htm upper case, ath = base64url(SHA-256(token))
    expect(claims).toMatchObject({ htm: 'PATCH', htu: 'https://api.test/orders/7', ath: sha256('t1') })
    expect(claims.jkt).toBe(await provider.dpop!.thumbprint())
    expect(claims.nonce).toBeUndefined()
    // every send gets its own proof: a new jti, and the htm/htu of that request
    const again = await claimsOf(
      (await policy.headersFor(token, { method: 'GET', url: 'https://api.test/x' })).dpop,
    )
    expect(again.jti).not.toBe(claims.jti)
    expect(again).toMatchObject({ htm: 'GET', htu: 'https://api.test/x' })
  })

  it('headersFor a Bearer token sends no proof, even when the provider has a DPoP key', async () => {
    const provider = providerFor('Bearer')
    const token = await provider.getToken()
    expect(isDpopBound(token)).toBe(false)
    expect(
      await createAuthPolicy(provider).headersFor(token, { method: 'GET', url: 'https://api.test/' }),
    ).toEqual({
      authorization: 'Bearer t1',
    })
  })

  it('headersFor a DPoP-bound token without a DPoP session rejects with DpopError, naming no token', async () => {
    const provider = providerFor('Bearer', false)
    const bound = createToken({ accessToken: 'secret-bound-token', tokenType: 'DPoP', raw: {} })
    const error = await createAuthPolicy(provider)
      .headersFor(bound, { method: 'GET', url: 'https://api.test/' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DpopError)
    expect((error as DpopError).code).toBe('ERR_DPOP')
    expect(`${(error as Error).message} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain(
      'secret-bound',
    )
  })

  it('afterResponse: a use_dpop_nonce challenge means one replay with the nonce, the token kept', async () => {
    const provider = providerFor('DPoP')
    const policy = createAuthPolicy(provider)
    const token = await provider.getToken()
    expect(policy.afterResponse(token, nonceChallenge('n-1'))).toBe('nonce')
    expect(provider.dpop!.nonceFor('https://api.test/other')).toBe('n-1')
    // the next proof to that origin carries it; another origin's proofs do not
    const replay = await policy.headersFor(token, { method: 'GET', url: 'https://api.test/orders' })
    expect((await claimsOf(replay.dpop)).nonce).toBe('n-1')
    const elsewhere = await policy.headersFor(token, { method: 'GET', url: 'https://other.test/' })
    expect((await claimsOf(elsewhere.dpop)).nonce).toBeUndefined()
    // the token was not dropped: getToken answers from the cache
    expect(await provider.getToken()).toBe(token)
  })

  it('afterResponse keeps a DPoP-Nonce sent on any response, and reads record headers in any case', async () => {
    const provider = providerFor('DPoP')
    const policy = createAuthPolicy(provider)
    const token = await provider.getToken()
    expect(
      policy.afterResponse(token, {
        url: 'https://api.test/a',
        status: 200,
        headers: { 'DPoP-Nonce': 'n-2' },
      }),
    ).toBe('none')
    expect(provider.dpop!.nonceFor('https://api.test/')).toBe('n-2')
    // got and node hand over lower-case records, with arrays for repeated headers
    const got = { 'www-authenticate': ['DPoP error="use_dpop_nonce"'], 'dpop-nonce': 'n-3' }
    expect(policy.afterResponse(token, { url: 'https://api.test/a', status: 401, headers: got })).toBe(
      'nonce',
    )
    expect(provider.dpop!.nonceFor('https://api.test/')).toBe('n-3')
  })

  it('afterResponse: a nonce demand without a usable nonce, or not on a 401, is no reason to replay', async () => {
    const provider = providerFor('DPoP')
    const policy = createAuthPolicy(provider)
    const token = await provider.getToken()
    expect(policy.afterResponse(token, nonceChallenge())).toBe('none')
    expect(policy.afterResponse(token, nonceChallenge('bad "nonce"'))).toBe('none')
    expect(policy.afterResponse(token, nonceChallenge('n-4', 400))).toBe('none')
    expect(provider.dpop!.nonceFor('https://api.test/')).toBe('n-4')
  })

  it('afterResponse: other 401s renew the token as for Bearer; insufficient_scope and 200s do not', async () => {
    const provider = providerFor('DPoP')
    const policy = createAuthPolicy(provider)
    const token = await provider.getToken()
    const response = (status: number, challenge: string): AuthResponse => ({
      url: 'https://api.test/a',
      status,
      headers: new Headers({ 'www-authenticate': challenge }),
    })
    expect(policy.afterResponse(token, response(401, 'DPoP error="invalid_token"'))).toBe('renew')
    expect(policy.afterResponse(token, response(401, 'DPoP error="invalid_dpop_proof"'))).toBe('renew')
    expect(policy.afterResponse(token, response(401, 'DPoP error="insufficient_scope"'))).toBe('none')
    expect(policy.afterResponse(token, response(200, ''))).toBe('none')
  })

  it('afterResponse for a Bearer token ignores DPoP nonces (no proof was sent)', async () => {
    const provider = providerFor('Bearer')
    const policy = createAuthPolicy(provider)
    const token = await provider.getToken()
    const response = { ...nonceChallenge('n-5'), headers: new Headers({ 'dpop-nonce': 'n-5' }) }
    expect(policy.afterResponse(token, { ...response, status: 200 })).toBe('none')
    expect(provider.dpop!.nonceFor('https://api.test/')).toBeUndefined()
  })
})
