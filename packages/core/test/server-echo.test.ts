import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { deviceCodeGrant } from '../src/device/index.js'
import { createDpop } from '../src/dpop/index.js'
import {
  createTokenProvider,
  isTokenwellError,
  type Logger,
  startDeviceAuthorization,
  type TokenEventName,
  type TokenProviderOptions,
} from '../src/index.js'
import { clientSecretJwt, privateKeyJwt } from '../src/jwt/index.js'
import { forgetRefreshFamilies } from '../src/provider/families.js'
import { echoingFetch, secretArb, secretsSent, templateArb } from './echo-server.js'
import { basicForms, channels, countLeaks } from './leak-scan.js'

// Rule 5 against a server that echoes the request: random secrets (many change under encoding),
// random echo templates, every grant and client authentication, every output channel. The fetch
// is injected (no msw), so thousands of runs fit in CI time.
const tokenEndpoint = 'https://as.test/token'
const clientId = 'svc-echo'
const EVENTS: TokenEventName[] = ['token', 'token-error', 'refresh-failed', 'invalidated', 'store-error']
const RUNS = Number(process.env.ECHO_RUNS ?? 250)

let privateKey: string
let dpopKey: CryptoKeyPair
beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64')
  privateKey = `-----BEGIN PRIVATE KEY-----\n${der}\n-----END PRIVATE KEY-----\n`
  dpopKey = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
})

type Secrets = [string, string, string, string, string, string]
type Setup = (s: Secrets) => Partial<TokenProviderOptions> & { uses: string[] }
const SCENARIOS: [string, Setup][] = [
  [
    'client_secret_basic + password',
    ([cs, pw]) => ({
      clientAuth: 'client_secret_basic',
      clientSecret: cs,
      grant: { type: 'password', username: 'alice', password: pw },
      uses: [cs, pw],
    }),
  ],
  [
    'client_secret_post + refresh_token',
    ([cs, , rt]) => ({
      clientAuth: 'client_secret_post',
      clientSecret: cs,
      grant: { type: 'refresh_token', refreshToken: rt },
      uses: [cs, rt],
    }),
  ],
  ['private_key_jwt', () => ({ clientAuth: privateKeyJwt({ privateKey }), uses: [] })],
  ['client_secret_jwt', ([cs]) => ({ clientAuth: clientSecretJwt(), clientSecret: cs, uses: [cs] })],
  [
    'authorization_code + PKCE',
    ([cs, , , code, verifier]) => ({
      clientSecret: cs,
      grant: {
        type: 'authorization_code',
        code,
        redirectUri: 'http://127.0.0.1:9/cb',
        codeVerifier: verifier,
      },
      uses: [cs, code, verifier],
    }),
  ],
  [
    'device code',
    ([, , , , , device]) => ({
      clientAuth: 'none',
      grant: deviceCodeGrant({ deviceCode: device, interval: 0 }),
      uses: [device],
    }),
  ],
  [
    'token exchange (a subject token, an actor token from a function)',
    ([cs, , , subject, actor]) => ({
      clientSecret: cs,
      grant: {
        type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subjectToken: subject,
        actorToken: async () => actor,
        actorTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      },
      uses: [cs, subject, actor],
    }),
  ],
  [
    'jwt-bearer + client_secret_post',
    ([cs, , , , , assertion]) => ({
      clientAuth: 'client_secret_post',
      clientSecret: cs,
      grant: { type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion },
      uses: [cs, assertion],
    }),
  ],
  [
    'DPoP + client_secret_basic',
    ([cs]) => ({ clientSecret: cs, dpop: createDpop({ key: dpopKey }), uses: [cs] }),
  ],
]

const pinoShaped = (lines: string[]): Logger => ({
  debug: (msg, fields) => lines.push(JSON.stringify({ level: 20, time: 0, msg, ...fields })),
  warn: (msg, fields) => lines.push(JSON.stringify({ level: 40, time: 0, msg, ...fields })),
})

const secretsArb = fc.uniqueArray(secretArb, { minLength: 6, maxLength: 6 }) as fc.Arbitrary<Secrets>
let scrubbedRuns = 0

describe('no secret in any text, whatever the authorization server echoes (rule 5)', () => {
  it.each(SCENARIOS)(
    '%s: 0 secrets and 0 12-character pieces in any channel',
    async (_, setup) => {
      await fc.assert(
        fc.asyncProperty(secretsArb, templateArb, async (secrets, template) => {
          const { uses, ...options } = setup(secrets)
          const cs = options.clientSecret
          const known =
            cs === undefined
              ? []
              : [cs, btoa(String.fromCharCode(...new TextEncoder().encode(`${clientId}:${cs}`)))]
          const { fetch, sent } = echoingFetch(template, known)
          const lines: string[] = []
          const provider = createTokenProvider({
            tokenEndpoint,
            clientId,
            ...options,
            fetch,
            logger: pinoShaped(lines),
            retry: { attempts: 2, minDelay: 0, maxDelay: 0 },
          } as TokenProviderOptions)
          const events: unknown[] = []
          for (const name of EVENTS) provider.on(name, (event) => events.push(event))
          const error = await provider.getToken().then(
            () => undefined,
            (e: unknown) => e,
          )
          await provider.close()
          expect(isTokenwellError(error), String(error)).toBe(true)
          const all = [...uses, ...secretsSent(sent)]
          const texts = channels([error, ...events], lines)
          const leaks = countLeaks(all, cs === undefined ? [] : basicForms(clientId, cs), texts)
          expect(leaks.count, `${template.kind}: ${JSON.stringify(leaks.found)}`).toBe(0)
          if (texts.plain.some((t) => t.includes('[REDACTED]'))) scrubbedRuns++
        }),
        { numRuns: RUNS },
      )
    },
    120_000,
  )

  it('device authorization request (client_secret_basic): 0 secrets in any channel', async () => {
    await fc.assert(
      fc.asyncProperty(secretsArb, templateArb, async ([cs], template) => {
        const known = [cs]
        const { fetch, sent } = echoingFetch(template, known)
        const error = await startDeviceAuthorization({
          deviceAuthorizationEndpoint: 'https://as.test/device',
          clientId,
          clientSecret: cs,
          fetch,
        }).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isTokenwellError(error), String(error)).toBe(true)
        const leaks = countLeaks([cs, ...secretsSent(sent)], basicForms(clientId, cs), channels([error], []))
        expect(leaks.count, `${template.kind}: ${JSON.stringify(leaks.found)}`).toBe(0)
      }),
      { numRuns: RUNS },
    )
  }, 120_000)

  it('a refresh that fails while the token is valid (refresh-failed, a warning): 0 secrets in any channel', async () => {
    await fc.assert(
      fc.asyncProperty(secretsArb, templateArb, async ([cs, , rt, rotated], template) => {
        forgetRefreshFamilies() // each run is a new server: the generated refresh tokens repeat across runs
        const echo = echoingFetch(template, [cs])
        let answered = false
        const fetch = async (request: Request) => {
          if (answered) return echo.fetch(request)
          answered = true
          return Response.json({ access_token: 'at-1', expires_in: 3600, refresh_token: rotated })
        }
        const lines: string[] = []
        const provider = createTokenProvider({
          tokenEndpoint,
          clientId,
          clientAuth: 'client_secret_post',
          clientSecret: cs,
          grant: { type: 'refresh_token', refreshToken: rt },
          fetch,
          logger: pinoShaped(lines),
          retry: false,
        })
        const events: unknown[] = []
        const failed: unknown[] = []
        for (const name of EVENTS) provider.on(name, (event) => events.push(event))
        provider.on('refresh-failed', (event) => failed.push(event))
        await provider.getToken()
        expect((await provider.getToken({ forceRefresh: true })).accessToken).toBe('at-1')
        await provider.close()
        expect(failed).toHaveLength(1)
        const texts = channels(events, lines)
        const leaks = countLeaks(
          [cs, rt, rotated, ...secretsSent(echo.sent)],
          basicForms(clientId, cs),
          texts,
        )
        expect(leaks.count, `${template.kind}: ${JSON.stringify(leaks.found)}`).toBe(0)
      }),
      { numRuns: RUNS },
    )
  }, 120_000)

  it('the echoes arrived: most runs had something scrubbed', () => {
    expect(scrubbedRuns).toBeGreaterThan(SCENARIOS.length * RUNS * 0.15)
  })
})
