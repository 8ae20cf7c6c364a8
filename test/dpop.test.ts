import { authorizationHeader, createTokenProvider, DpopError, type TokenwellError } from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { createDpop, dpopNonceChallenge } from '@tokenwell/core/dpop'
import { type RunningMockAuthServer, startMockAuthServer, startProtectedApi } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// DPoP on token requests (RFC 9449 §5, §8) against the mock server, which binds tokens to the proof key (cnf.jkt).
let auth: RunningMockAuthServer
let noncey: RunningMockAuthServer
beforeAll(async () => {
  auth = await startMockAuthServer()
  noncey = await startMockAuthServer({ dpopNonce: true })
})
afterAll(async () => {
  await auth?.close()
  await noncey?.close()
})

const client = { clientId: 'demo-client', clientSecret: 'demo-secret' }

describe('DPoP against the mock server', () => {
  it('gets a DPoP-bound token whose cnf.jkt is the provider key’s thumbprint', async () => {
    auth.stats.reset()
    const provider = createTokenProvider({ tokenEndpoint: auth.tokenEndpoint, ...client, dpop: createDpop() })
    const tokens = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()))
    const token = tokens[0]!
    expect(token.tokenType).toBe('DPoP')
    expect(authorizationHeader(token)).toMatch(/^DPoP /)
    const claims = await auth.verifyAccessToken(token.accessToken)
    expect(claims?.cnf).toEqual({ jkt: await provider.dpop!.thumbprint() })
    expect(auth.stats.tokenRequests).toBe(1)
    // a second proof for the refresh reuses the key, with a new jti (the server refuses a replayed one)
    await provider.getToken({ forceRefresh: true })
    expect(auth.stats.tokensIssued).toBe(2)
  })

  it('answers the server’s use_dpop_nonce with one retry, then sends the nonce straight away', async () => {
    noncey.stats.reset()
    const provider = createTokenProvider({ discovery, issuer: noncey.issuer, ...client, dpop: createDpop() })
    expect((await provider.getToken()).tokenType).toBe('DPoP')
    expect(noncey.stats.tokenRequests).toBe(2)
    expect(noncey.requests.map((r) => r.error)).toEqual(['use_dpop_nonce', undefined])
    await provider.getToken({ forceRefresh: true })
    expect(noncey.stats.tokenRequests).toBe(3)
  })

  it('stops with DpopError after one retry when the server keeps asking for a new nonce (no loop)', async () => {
    const stubborn = await startMockAuthServer()
    try {
      // more demands are queued than tokenwell may answer: a loop would use them up
      stubborn.failNext(5, { status: 400, error: 'use_dpop_nonce', headers: { 'DPoP-Nonce': 'always-new' } })
      const provider = createTokenProvider({
        tokenEndpoint: stubborn.tokenEndpoint,
        ...client,
        dpop: createDpop(),
      })
      const error = (await provider.getToken().catch((e: unknown) => e)) as TokenwellError
      expect(error).toBeInstanceOf(DpopError)
      expect(error.code).toBe('ERR_DPOP')
      expect(stubborn.stats.tokenRequests).toBe(2)
    } finally {
      await stubborn.close()
    }
  })

  it('a provider without dpop still gets Bearer tokens from the same server', async () => {
    auth.stats.reset()
    const token = await createTokenProvider({ tokenEndpoint: auth.tokenEndpoint, ...client }).getToken()
    expect(token.tokenType).toBe('Bearer')
    expect((await auth.verifyAccessToken(token.accessToken))?.cnf).toBeUndefined()
  })
})

describe('DPoP proofs for API requests (the contract the adapters will follow)', () => {
  it('provider.dpop proves each API request; the nonce dance with the resource server takes one replay', async () => {
    const api = await startProtectedApi({ authServer: auth, dpopNonce: true })
    try {
      const provider = createTokenProvider({
        tokenEndpoint: auth.tokenEndpoint,
        ...client,
        dpop: createDpop(),
      })
      const token = await provider.getToken()
      const url = `${api.url}/echo/orders?page=1`
      const send = async () => {
        const proof = await provider.dpop!.proof({ method: 'GET', url, accessToken: token.accessToken })
        const response = await fetch(url, {
          headers: { authorization: authorizationHeader(token), dpop: proof },
        })
        provider.dpop!.rememberNonce(url, response.headers)
        return response
      }
      const first = await send()
      expect(first.status).toBe(401)
      expect(dpopNonceChallenge(first)).toBeTruthy()
      const second = await send()
      expect(second.status).toBe(200)
      expect(await second.json()).toMatchObject({ authorized: true, path: '/echo/orders' })
      expect(api.stats.requests).toBe(2)
      expect(api.requests.map((r) => [r.authorization, r.dpop])).toEqual([
        [true, true],
        [true, true],
      ])

      // the bound token is worthless as a Bearer token, and a proof must fit the request
      const asBearer = await fetch(url, { headers: { authorization: `Bearer ${token.accessToken}` } })
      expect(asBearer.status).toBe(401)
      const wrongUrl = await provider.dpop!.proof({
        method: 'GET',
        url: `${api.url}/other`,
        accessToken: token.accessToken,
      })
      const misfit = await fetch(url, {
        headers: { authorization: authorizationHeader(token), dpop: wrongUrl },
      })
      expect(misfit.status).toBe(401)
      expect(misfit.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/)
    } finally {
      await api.close()
    }
  })
})
