import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createTokenProvider,
  isTokenwellError,
  type Logger,
  startDeviceAuthorization,
  type TokenEventName,
  type TokenProviderOptions,
} from '../src/index.js'
import {
  type EchoTemplate,
  echoResponse,
  readSent,
  type SentRequest,
  secretArb,
  templateArb,
} from './echo-server.js'
import { basicForms, channels, countLeaks } from './leak-scan.js'

// Rule 5 against a server that echoes the request: random secrets (many change under encoding),
// random echo templates, every grant and client authentication, every output channel. The fetch
// is injected (no msw), so thousands of runs fit in CI time.
const tokenEndpoint = 'https://as.test/token'
const clientId = 'svc-echo'
const SECRET_PARAMS = [
  'client_secret',
  'client_assertion',
  'password',
  'refresh_token',
  'code',
  'code_verifier',
  'device_code',
]
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
  ['private_key_jwt', () => ({ clientAuth: 'private_key_jwt', privateKey, uses: [] })],
  ['client_secret_jwt', ([cs]) => ({ clientAuth: 'client_secret_jwt', clientSecret: cs, uses: [cs] })],
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
      grant: { type: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: device, interval: 0 },
      uses: [device],
    }),
  ],
  ['DPoP + client_secret_basic', ([cs]) => ({ clientSecret: cs, dpop: { key: dpopKey }, uses: [cs] })],
]

/** A fetch that echoes every request as `template` says, and remembers what was sent. */
function echoingFetch(template: EchoTemplate, known: string[]) {
  const sent: SentRequest[] = []
  const fetch = async (request: Request) => {
    const record = await readSent(request)
    sent.push(record)
    return echoResponse(record, template, known)
  }
  return { fetch, sent }
}

/** Every secret of what was sent: credential headers (the Basic credentials alone too) and secret parameters. */
function secretsSent(sent: readonly SentRequest[]): string[] {
  return sent.flatMap(({ headers, params }) => [
    ...['authorization', 'dpop'].flatMap((name) =>
      headers[name] ? [headers[name], headers[name].split(' ')[1] ?? ''] : [],
    ),
    ...params.filter(([name]) => SECRET_PARAMS.includes(name)).map(([, value]) => value),
  ])
}

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

  it('the echoes arrived: most runs had something scrubbed', () => {
    expect(scrubbedRuns).toBeGreaterThan(SCENARIOS.length * RUNS * 0.15)
  })
})
