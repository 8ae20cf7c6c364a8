import { createTokenProvider, isTokenwellError, StepUpError, type TokenProvider } from '@tokenwell/core'
import {
  type ClientShape,
  createRequestProtocol,
  decodeClaims,
  type Grant,
  readChallenge,
} from '@tokenwell/core/adapter'
import { server } from '@tokenwell/mock-server/msw'
import fc from 'fast-check'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'

const tokenEndpoint = 'https://as.test/token'
const api = 'https://api.test'

interface Req {
  url: string
}
interface Res {
  status: number
  headers: Headers
}
const shape: ClientShape<Req, Res> = {
  url: (r) => r.url,
  method: () => 'GET',
  base: () => undefined,
  ownCredentials: () => false,
  status: (s) => s.status,
  header: (s, name) => s.headers.get(name),
}

const b64url = (text: string) => Buffer.from(text).toString('base64url')
const CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'

/** A provider whose token endpoint answers `secret-t<n>` and records every form it got. */
function counting(): { provider: TokenProvider; forms: URLSearchParams[] } {
  const forms: URLSearchParams[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      forms.push(new URLSearchParams(await request.text()))
      return HttpResponse.json({
        access_token: `secret-t${forms.length}`,
        token_type: 'Bearer',
        expires_in: 300,
      })
    }),
  )
  const provider = createTokenProvider({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    scope: 'read',
    refreshAhead: false,
    retry: false,
  })
  return { provider, forms }
}

describe('readChallenge', () => {
  it('reads each kind, a new user authentication winning over claims, claims over scope', () => {
    const scope = 'Bearer error="insufficient_scope", scope="b a a"'
    const claims = `Bearer realm="", authorization_uri="https://login.example/authorize", error="insufficient_claims", claims="${Buffer.from(CLAIMS).toString('base64')}"`
    const auth = 'Bearer error="insufficient_user_authentication", acr_values="phr phrh", max_age="60"'
    expect(readChallenge(403, scope)).toEqual({ kind: 'scope', scope: ['b', 'a'] })
    expect(readChallenge(401, [scope, claims])).toEqual({ kind: 'claims', claims: CLAIMS })
    expect(readChallenge(401, `${scope}, ${claims}, ${auth}`)).toEqual({
      kind: 'authentication',
      acrValues: 'phr phrh',
      maxAge: 60,
    })
    expect(readChallenge(200, auth)).toBeUndefined()
    expect(readChallenge(401, 'Basic error="insufficient_scope", scope="a"')).toBeUndefined()
  })

  it('counts a challenge with a malformed parameter as absent, and leaves out acr_values / max_age that do not parse', () => {
    expect(readChallenge(403, 'Bearer error="insufficient_scope", scope="a\\"b"')).toBeUndefined()
    expect(readChallenge(403, 'Bearer error="insufficient_scope"')).toBeUndefined()
    expect(readChallenge(401, 'Bearer error="insufficient_claims", claims="not base64!"')).toBeUndefined()
    expect(
      readChallenge(401, `Bearer error="insufficient_claims", claims="${b64url('[1]')}"`),
    ).toBeUndefined()
    expect(
      readChallenge(401, 'Bearer error="insufficient_user_authentication", acr_values="a\\"b", max_age="-1"'),
    ).toEqual({ kind: 'authentication' })
  })

  it('decodes claims as base64url or padded base64, and only to a JSON object', () => {
    const json = '{"a":"é?>"}'
    expect(decodeClaims(b64url(json))).toBe(json)
    expect(decodeClaims(Buffer.from(json).toString('base64'))).toBe(json)
    expect(decodeClaims(b64url('"text"'))).toBeUndefined()
    expect(decodeClaims('A')).toBeUndefined()
    expect(decodeClaims(Buffer.from([0xff, 0xfe]).toString('base64'))).toBeUndefined()
  })
})

describe('challenges through the protocol', () => {
  it('a claims storm: 50 concurrent challenged requests make one token request with the claims', async () => {
    const { provider, forms } = counting()
    const protocol = createRequestProtocol(provider, {}, shape)
    await provider.getToken()
    const challenge = res(401, `Bearer error="insufficient_claims", claims="${b64url(CLAIMS)}"`)
    const grants = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const grant = (await protocol.begin({ url: `${api}/x` })) as Grant
        return protocol.onResponse(grant, { url: `${api}/x` }, challenge)
      }),
    )
    expect(new Set(grants.map((g) => g?.authorization))).toEqual(new Set(['Bearer secret-t2']))
    expect(forms.map((f) => f.get('claims'))).toEqual([null, CLAIMS])
    // the replay is the one: a second claims challenge goes back
    expect(protocol.onResponse(grants[0]!, { url: `${api}/x` }, challenge)).toBeUndefined()
  })

  it('a stepped-up token refused with a 401 afterwards is dropped, so the next step-up asks for a new one', async () => {
    const { provider, forms } = counting()
    const protocol = createRequestProtocol(provider, { stepUp: true }, shape)
    const request = { url: `${api}/x` }
    const scope = res(403, 'Bearer error="insufficient_scope", scope="admin"')
    const stepUp = async () => {
      const grant = (await protocol.begin(request)) as Grant
      return (await protocol.onResponse(grant, request, scope))!
    }
    const first = await stepUp()
    expect(first.authorization).toBe('Bearer secret-t2')
    expect(await stepUp()).toMatchObject({ authorization: 'Bearer secret-t2' }) // cached under its scope
    expect(protocol.onResponse(first, request, res(401, 'Bearer error="invalid_token"'))).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(await stepUp()).toMatchObject({ authorization: 'Bearer secret-t3' })
    expect(forms.map((f) => f.get('scope'))).toEqual(['read', 'admin read', 'admin read'])
  })

  it('rejects stepUp / claimsChallenges that are not booleans with ConfigError', () => {
    const { provider } = counting()
    expect(() => createRequestProtocol(provider, { stepUp: 'yes' as never }, shape)).toThrow(/stepUp must be/)
    expect(() => createRequestProtocol(provider, { claimsChallenges: 1 as never }, shape)).toThrow(
      /claimsChallenges must be/,
    )
  })

  it('hands a claims challenge back for a grant that redeems its refresh token once', async () => {
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json({ access_token: 'secret-rt', token_type: 'Bearer', expires_in: 300 }),
      ),
    )
    const provider = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      grant: { type: 'refresh_token', refreshToken: 'r0' },
      clientAuth: 'none',
    })
    const protocol = createRequestProtocol(provider, { stepUp: true }, shape)
    const grant = (await protocol.begin({ url: `${api}/x` })) as Grant
    const claims = res(401, `Bearer error="insufficient_claims", claims="${b64url(CLAIMS)}"`)
    expect(protocol.onResponse(grant, { url: `${api}/x` }, claims)).toBeUndefined()
    const scope = res(403, 'Bearer error="insufficient_scope", scope="admin"')
    expect(protocol.onResponse(grant, { url: `${api}/x` }, scope)).toBeUndefined()
  })

  it.each([
    ['percent-encoded', (t: string) => encodeURIComponent(t)],
    ['cut to 14 characters', (t: string) => t.slice(2, 16)],
    ['base64', (t: string) => Buffer.from(t).toString('base64')],
  ])('a StepUpError shows no acr_values that echoed the token %s', async (_, echo) => {
    const token = 'at+/Q2xpZW50U2VjcmV0=9f8e'
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json({ access_token: token, token_type: 'Bearer', expires_in: 300 }),
      ),
    )
    const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
    const protocol = createRequestProtocol(provider, {}, shape)
    const grant = (await protocol.begin({ url: `${api}/x` })) as Grant
    const challenge = `Bearer error="insufficient_user_authentication", acr_values="${echo(token)}", max_age="60"`
    const error = await protocol.onResponse(grant, { url: `${api}/x` }, res(401, challenge))?.catch((e) => e)
    expect(error).toBeInstanceOf(StepUpError)
    expect(error).toMatchObject({ acrValues: undefined, maxAge: 60 })
  })

  // Hostile resource servers: whatever WWW-Authenticate they send, a request is sent at most twice,
  // asks for at most one more token, and fails with nothing but a tokenwell error that shows no token.
  it('hostile WWW-Authenticate values never loop, never replay twice, never throw anything but a typed error', async () => {
    const token = fc.constantFrom('secret-t1', 'secret-t2')
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      token,
      fc.constantFrom('admin', 'read', 'a b c', 'phr', '60', '-1', '1e3', b64url(CLAIMS), b64url('[]')),
      fc.string({ maxLength: 60 }).map((s) => b64url(JSON.stringify({ access_token: { x: { value: s } } }))),
    )
    const errorCode = fc.constantFrom(
      'insufficient_scope',
      'insufficient_claims',
      'insufficient_user_authentication',
      'invalid_token',
      'use_dpop_nonce',
    )
    const param = fc.oneof(
      fc.tuple(fc.constant('error'), errorCode),
      fc.tuple(
        fc.constantFrom(
          'error',
          'scope',
          'claims',
          'acr_values',
          'max_age',
          'realm',
          'resource_metadata',
          'x',
        ),
        fc.oneof(value, errorCode),
      ),
    )
    const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`
    const challenge = fc
      .tuple(
        fc.constantFrom('Bearer', 'DPoP', 'bearer', 'Basic', 'Negotiate'),
        fc.array(param, { maxLength: 5 }),
        fc.boolean(),
      )
      .map(([scheme, params, quoted]) =>
        `${scheme} ${params.map(([n, v]) => `${n}=${quoted ? quote(v) : v}`).join(', ')}`.trim(),
      )
    const header = fc.oneof(
      fc.array(challenge, { minLength: 1, maxLength: 3 }).map((c) => c.join(', ')),
      fc.string({ maxLength: 80 }),
    )
    const seen = { replays: 0, stepUpErrors: 0, tokenRequests: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(401, 403, 200, 500), header), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        async (answers, stepUp, claimsChallenges) => {
          const { provider, forms } = counting()
          const protocol = createRequestProtocol(provider, { stepUp, claimsChallenges }, shape)
          const request = { url: `${api}/x` }
          let grant = (await protocol.begin(request)) as Grant
          let sends = 1
          try {
            for (const [status, value] of answers) {
              const next = await protocol.onResponse(grant, request, res(status, value))
              if (next === undefined) break
              grant = next
              sends++
              seen.replays++
            }
          } catch (error) {
            expect(isTokenwellError(error)).toBe(true)
            if (error instanceof StepUpError) seen.stepUpErrors++
            if (error instanceof StepUpError)
              for (const issued of forms.map((_, i) => `secret-t${i + 1}`))
                expect(`${error.message} ${JSON.stringify(error)} ${error.acrValues}`).not.toContain(issued)
          }
          expect(sends).toBeLessThanOrEqual(2)
          expect(forms.length).toBeLessThanOrEqual(2) // the first token, and at most one more
          seen.tokenRequests += forms.length - 1
        },
      ),
      { numRuns: 300 },
    )
    // the generator reaches every branch: replays (renewals, step-ups, claims) and typed errors
    expect(seen.replays).toBeGreaterThan(0)
    expect(seen.tokenRequests).toBeGreaterThan(0)
    expect(seen.stepUpErrors).toBeGreaterThan(0)
  })
})

function res(status: number, wwwAuthenticate?: string): Res {
  return {
    status,
    headers: new Headers(wwwAuthenticate === undefined ? {} : { 'www-authenticate': wwwAuthenticate }),
  }
}
