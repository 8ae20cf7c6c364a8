import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningMockAuthServer, startMockAuthServer, type TokenFault } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, removeBundle, runCli } from './subprocess.js'

// `tokenwell token` as a child process against a server that echoes the request in its errors:
// stdout and stderr, with and without --debug, hold no secret and no 12-character piece of one.
// The secrets have characters that change under form-, JSON- and base64-encoding.
const CLIENT_SECRET = 'cs+é/ "q&=:%41-8d2f1b7'
const PASSWORD = 'pw é+"\\/:%&=9a4c71e'
const REFRESH_TOKEN = 'rt-4f9a+/=é"c2d81b07e6'
const PIECE = 12

let auth: RunningMockAuthServer
let dir: string
let keyFile: string
const results: CliResult[] = []

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64')
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
  auth = await startMockAuthServer({
    clients: [
      { clientId: 'svc-a', clientSecret: CLIENT_SECRET },
      { clientId: 'jwt-svc', jwks: { keys: [{ kty, crv, x, y, kid: 'k1', alg: 'ES256' } as JsonWebKey] } },
    ],
    users: [{ username: 'alice', password: PASSWORD }],
  })
  dir = await mkdtemp(join(tmpdir(), 'tokenwell-echo-'))
  keyFile = join(dir, 'key.pem')
  await writeFile(keyFile, `-----BEGIN PRIVATE KEY-----\n${der}\n-----END PRIVATE KEY-----\n`)
})
afterAll(async () => {
  removeBundle()
  await rm(dir, { recursive: true, force: true })
  await auth.close()
})

const form = (v: string) => new URLSearchParams({ v }).toString().slice(2)
const b64 = (v: string) => Buffer.from(v).toString('base64')
/** Each secret as is, form-urlencoded, JSON-escaped, and the Basic credentials in both base64 forms. */
const FORMS = [CLIENT_SECRET, PASSWORD, REFRESH_TOKEN].flatMap((s) => [
  s,
  form(s),
  JSON.stringify(s).slice(1, -1),
])
FORMS.push(b64(`svc-a:${form(CLIENT_SECRET)}`), b64(`svc-a:${CLIENT_SECRET}`))

/** Occurrences of a secret, of a 12-character piece of one, or of a JWT (a client assertion). */
function leaks(text: string): string[] {
  const found: string[] = []
  for (const f of FORMS) {
    for (let i = 0; i + PIECE <= f.length; i++)
      if (text.includes(f.slice(i, i + PIECE))) found.push(f.slice(i, i + PIECE))
  }
  found.push(...(text.match(/eyJ[\w-]{6,}\.[\w-]{6,}/g) ?? []))
  return found
}

const env = { CS: CLIENT_SECRET, PW: PASSWORD, RT: REFRESH_TOKEN }
const endpoint = () => ['token', '--token-endpoint', auth.tokenEndpoint]
const CASES: [string, string[], TokenFault, number][] = [
  [
    'client_secret_basic + password, a JSON error',
    [
      '--client-id',
      'svc-a',
      '--client-secret-env',
      'CS',
      '--grant',
      'password',
      '--username',
      'alice',
      '--password-env',
      'PW',
    ],
    { status: 400, error: 'invalid_grant', echo: true },
    1,
  ],
  [
    'client_secret_post + refresh_token, a 503 HTML page',
    [
      '--client-id',
      'svc-a',
      '--client-secret-env',
      'CS',
      '--client-auth',
      'post',
      '--grant',
      'refresh_token',
      '--refresh-token-env',
      'RT',
    ],
    {
      status: 503,
      body: '<html><pre>{request}</pre></html>',
      headers: { 'content-type': 'text/html' },
      echo: true,
    },
    3,
  ],
  [
    'private_key_jwt, a JSON error',
    [
      '--client-id',
      'jwt-svc',
      '--client-auth',
      'private-key-jwt',
      '--private-key-file',
      '',
      '--key-id',
      'k1',
    ],
    { status: 401, error: 'invalid_client', echo: true },
    1,
  ],
  [
    'client_secret_basic + client_credentials, a 503 JSON error, retried',
    ['--client-id', 'svc-a', '--client-secret-env', 'CS'],
    { status: 503, echo: true },
    3,
  ],
  [
    'client_secret_basic + client_credentials, a plain-text 401',
    ['--client-id', 'svc-a', '--client-secret-env', 'CS'],
    { status: 401, body: 'Unauthorized: {request}', echo: true },
    1,
  ],
]

describe('tokenwell token against a server that echoes the request (subprocess)', { timeout: 60_000 }, () => {
  it.each(
    CASES.flatMap(([name, args, fault, requests]) =>
      [false, true].map((debug) => [name, debug, args, fault, requests] as const),
    ),
  )('%s (--debug: %s): no secret on stdout or stderr', async (_, debug, args, fault, requests) => {
    auth.failNext(requests, fault)
    const argv = [...endpoint(), ...args.map((a) => (a === '' ? keyFile : a)), ...(debug ? ['--debug'] : [])]
    const result = await runCli(argv, { env })
    results.push(result)
    auth.clearFaults()
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(leaks(result.stdout + result.stderr)).toEqual([])
    expect(result.stderr).toMatch(/^tokenwell: token endpoint returned /)
    if (debug) expect(result.stderr).toMatch(/\n {4}at /)
  })

  it('the echoes reached the client: what they quoted was scrubbed, not missing', () => {
    // each JSON error's description is printed; it said [REDACTED] where the secrets were
    expect(results.filter((r) => r.stderr.includes('[REDACTED]')).length).toBeGreaterThanOrEqual(6)
    expect(results).toHaveLength(CASES.length * 2)
  })
})
