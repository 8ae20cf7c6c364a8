import { generateKeyPairSync } from 'node:crypto'
import { inspect } from 'node:util'
import { server } from '@tokenwell/mock-server/msw'
import { type JWTPayload, jwtVerify, type KeyObject } from 'jose'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { ConfigError, createTokenProvider, type PrivateKeyInput, type TokenwellError } from '../src/index.js'
import { clientSecretJwt, privateKeyJwt } from '../src/jwt/index.js'

const tokenEndpoint = 'https://as.test/token'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** A token endpoint that verifies each client assertion with `key` and records what it saw. */
function verifyingServer(key: CryptoKey | KeyObject | Uint8Array) {
  const seen: { header: Record<string, unknown>; payload: JWTPayload; form: URLSearchParams }[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.get('client_assertion_type') !== ASSERTION_TYPE)
        return HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
      try {
        const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion') ?? '', key, {
          audience: tokenEndpoint,
        })
        seen.push({ header: protectedHeader, payload, form })
      } catch {
        return HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
      }
      return HttpResponse.json({ access_token: `t${seen.length}`, token_type: 'Bearer', expires_in: 300 })
    }),
  )
  return seen
}

function pems(type: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519') {
  const options =
    type === 'ec' ? { namedCurve: 'P-256' } : type.startsWith('rsa') ? { modulusLength: 2048 } : {}
  const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number })
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey, privateKey }
}

describe('private_key_jwt (RFC 7523 §2.2)', () => {
  const cases: [
    string,
    () => Promise<{ key: PrivateKeyInput; verify: CryptoKey | KeyObject; alg: string }>,
    string?,
  ][] = [
    [
      'an RSA JWK → RS256',
      async () => {
        const { privateKey, publicKey } = pems('rsa')
        return {
          key: { ...(privateKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'k1' },
          verify: publicKey,
          alg: 'RS256',
        }
      },
    ],
    [
      'an RSA PEM with PS256 chosen',
      async () => {
        const { pem, publicKey } = pems('rsa')
        return { key: pem, verify: publicKey, alg: 'PS256' }
      },
      'PS256',
    ],
    [
      'an EC P-256 PEM → ES256',
      async () => {
        const { pem, publicKey } = pems('ec')
        return { key: pem, verify: publicKey, alg: 'ES256' }
      },
    ],
    [
      'an Ed25519 CryptoKey → EdDSA',
      async () => {
        const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
          'sign',
          'verify',
        ])) as CryptoKeyPair
        return { key: pair.privateKey, verify: pair.publicKey, alg: 'EdDSA' }
      },
    ],
  ]

  it.each(cases)(
    'signs with %s; the server verifies iss, sub, aud, jti, iat and exp',
    async (_, make, algorithm) => {
      const { key, verify, alg } = await make()
      const seen = verifyingServer(verify)
      const now = Date.now()
      const provider = createTokenProvider({
        tokenEndpoint,
        clientId: 'svc-a',
        clientAuth: privateKeyJwt({ privateKey: key, ...(algorithm && { algorithm: algorithm as 'PS256' }) }),
      })
      await provider.getToken()
      await provider.getToken({ forceRefresh: true })
      expect(seen).toHaveLength(2)
      const [first, second] = seen
      expect(first!.header.alg).toBe(alg)
      expect(first!.payload).toMatchObject({ iss: 'svc-a', sub: 'svc-a', aud: tokenEndpoint })
      expect(first!.payload.iat).toBeGreaterThanOrEqual(Math.floor(now / 1000) - 1)
      expect(first!.payload.exp! - first!.payload.iat!).toBe(60)
      expect(first!.form.get('client_id')).toBe('svc-a')
      expect(first!.form.has('client_secret')).toBe(false)
      // a fresh jti per request: servers reject a replayed assertion
      expect(first!.payload.jti).toMatch(/^[0-9a-f-]{36}$/)
      expect(second!.payload.jti).not.toBe(first!.payload.jti)
    },
  )

  it('puts the JWK kid, or keyId, in the header, and honours audience and lifetime', async () => {
    const { privateKey, publicKey } = pems('ec')
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'from-jwk' }
    let seen = verifyingServer(publicKey)
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientAuth: privateKeyJwt({ privateKey: jwk }),
    }).getToken()
    expect(seen[0]!.header.kid).toBe('from-jwk')

    seen = []
    server.use(
      http.post(tokenEndpoint, async ({ request }) => {
        const form = new URLSearchParams(await request.text())
        const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion')!, publicKey, {
          audience: 'https://as.test',
        })
        seen.push({ header: protectedHeader, payload, form })
        return HttpResponse.json({ access_token: 'x', expires_in: 60 })
      }),
    )
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientAuth: privateKeyJwt({
        privateKey: jwk,
        keyId: 'chosen',
        audience: 'https://as.test',
        lifetime: 30_000,
      }),
    }).getToken()
    expect(seen[0]!.header.kid).toBe('chosen')
    expect(seen[0]!.payload.exp! - seen[0]!.payload.iat!).toBe(30)
  })

  it('rejects unusable keys with a ConfigError that names privateKey and never shows the key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
    const jwk = rsa.privateKey.export({ format: 'jwk' }) as JsonWebKey
    const { d: _d, ...publicJwk } = jwk
    const publicCryptoKey = (
      (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair
    ).publicKey
    const bad: [unknown, RegExp, object?][] = [
      [pkcs1, /PKCS#1\/SEC1 PEM; convert it to PKCS#8/],
      [publicJwk, /JWK has no private part/],
      [publicCryptoKey, /must be a private key/],
      ['not a key', /must be a PKCS#8 PEM/],
      [42, /must be a private JWK, a PKCS#8 PEM string or a CryptoKey/],
      [{ ...jwk, kty: 'oct' }, /unsupported key type/],
      [jwk, /ES256 does not fit privateKey \(an RSA key\)/, { algorithm: 'ES256' }],
    ]
    for (const [privateKey, message, signing] of bad) {
      const create = () => privateKeyJwt({ privateKey: privateKey as PrivateKeyInput, ...signing })
      expect(create).toThrow(ConfigError)
      expect(create).toThrow(message)
    }
    expect(() => privateKeyJwt({} as never)).toThrow(/privateKey is required/)
    // the string forms and the old options point at the entry that signs
    expect(() =>
      createTokenProvider({ tokenEndpoint, clientId: 'c', clientAuth: 'private_key_jwt' as never }),
    ).toThrow(/privateKeyJwt\(\{ privateKey \}\) from @tokenwell\/core\/jwt/)
    expect(() =>
      createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', privateKey: jwk } as never),
    ).toThrow(/option "privateKey" moved: use clientAuth: privateKeyJwt/)
  })

  it('reports a PEM that looks right but does not import as ConfigError on the first request, with no key text', async () => {
    const { pem } = pems('ec')
    // keep the header and the algorithm OID, break the key body
    const broken = pem.replace(/\n([A-Za-z0-9+/]{20})/, '\nAAAAAAAAAAAAAAAAAAAA')
    let hits = 0
    server.use(http.post(tokenEndpoint, () => void hits++))
    const provider = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientAuth: privateKeyJwt({ privateKey: broken }),
      retry: false,
    })
    const error = (await provider.getToken().catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.code).toBe('ERR_CONFIG')
    expect(error.message).toMatch(/privateKey could not be imported for ES256 signing/)
    const body = broken.split('\n').slice(1, -2).join('')
    for (const text of [
      error.message,
      inspect(error),
      JSON.stringify(error),
      inspect(provider),
      String(error.stack),
    ]) {
      expect(text).not.toContain(body.slice(10, 40))
    }
    expect(hits).toBe(0)
  })
})

describe('client_secret_jwt (RFC 7523 §2.2, HMAC)', () => {
  it('signs an HS256 assertion with the client secret, which never travels itself', async () => {
    const secret = 'a-client-secret-that-is-long-enough-for-hs256!'
    const seen = verifyingServer(new TextEncoder().encode(secret))
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: secret,
      clientAuth: clientSecretJwt(),
    }).getToken()
    expect(seen[0]!.header.alg).toBe('HS256')
    expect(seen[0]!.payload).toMatchObject({ iss: 'c', sub: 'c' })
    expect(seen[0]!.form.toString()).not.toContain(secret)
  })

  it('takes HS384/HS512 and refuses an asymmetric algorithm', async () => {
    const secret = 'a-client-secret-that-is-long-enough-for-hs512-signing-0123456789'
    const seen = verifyingServer(new TextEncoder().encode(secret))
    await createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: secret,
      clientAuth: clientSecretJwt({ algorithm: 'HS512' }),
    }).getToken()
    expect(seen[0]!.header.alg).toBe('HS512')
    expect(() => clientSecretJwt({ algorithm: 'RS256' })).toThrow(/must be one of HS256, HS384, HS512/)
  })
})
