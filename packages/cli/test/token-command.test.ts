import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { server } from '@tokenwell/mock-server/msw'
import { delay, HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from './memory-io.js'

const tokenEndpoint = 'https://as.test/token'
const CLIENT_SECRET = 'cs-7d1f9a0c-secret'
const PASSWORD = 'pw-0b9e3c2a-secret'
const REFRESH_TOKEN = 'rt-5a6b7c8d-secret'
const ACCESS_TOKEN = 'at-1f2e3d4c-token'
const SECRETS = [CLIENT_SECRET, PASSWORD, REFRESH_TOKEN]
const base = ['token', '--token-endpoint', tokenEndpoint, '--client-id', 'svc-a']
const env = { CS: CLIENT_SECRET, PW: PASSWORD, RT: REFRESH_TOKEN }

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenwell-cli-'))
})
const outputs: string[] = []
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  // every test's output went through here: no secret the CLI read was ever printed
  const all = outputs.join('\n')
  for (const secret of SECRETS) expect(all).not.toContain(secret)
})

/** A token endpoint that records each request and answers `body` (a token by default). */
function endpoint(body: (form: URLSearchParams) => Response | Promise<Response> = () => tokenResponse()) {
  const seen: { form: URLSearchParams; headers: Headers }[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      seen.push({ form, headers: request.headers })
      return body(form)
    }),
  )
  return seen
}

function tokenResponse(extra: Record<string, unknown> = {}) {
  return HttpResponse.json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, ...extra })
}

async function cli(argv: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  const result = await run(argv, { env, ...options })
  outputs.push(result.stdout, result.stderr)
  return result
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`

describe('output', () => {
  it('prints the bare access token on stdout by default, and nothing on stderr', async () => {
    endpoint()
    const result = await cli([...base, '--client-secret-env', 'CS'])
    expect(result).toEqual({ code: 0, stdout: `${ACCESS_TOKEN}\n`, stderr: '' })
  })

  it('prints an Authorization header with --output header', async () => {
    endpoint()
    const result = await cli([...base, '--client-secret-env', 'CS', '--output', 'header'])
    expect(result.stdout).toBe(`Authorization: Bearer ${ACCESS_TOKEN}\n`)
  })

  it('prints the non-secret fields plus the access token with --output json, never the refresh or ID token', async () => {
    endpoint(() =>
      tokenResponse({ scope: 'orders:read', refresh_token: 'rt-issued-x', id_token: 'idt-issued-x' }),
    )
    const before = Date.now()
    const result = await cli([...base, '--client-secret-env', 'CS', '-o', 'json'])
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(Object.keys(json).sort()).toEqual(['accessToken', 'expiresAt', 'expiresIn', 'scope', 'tokenType'])
    expect(json).toMatchObject({ accessToken: ACCESS_TOKEN, tokenType: 'Bearer', scope: 'orders:read' })
    expect(json.expiresAt).toBeGreaterThanOrEqual(before + 300_000)
    expect(json.expiresIn).toBeGreaterThan(290)
    expect(result.stdout).not.toContain('rt-issued-x')
    expect(result.stdout).not.toContain('idt-issued-x')
  })
})

describe('request', () => {
  it('sends client_credentials with HTTP Basic by default, and the scope, audience, resources and params', async () => {
    const seen = endpoint()
    const result = await cli([
      ...base,
      '--client-secret-env',
      'CS',
      '--scope',
      'orders:read orders:write',
      '--scope',
      'admin',
      '--audience',
      'https://api.example',
      '--resource',
      'https://a.example/',
      '--resource',
      'https://b.example/',
      '--param',
      'tenant=t1',
    ])
    expect(result.code).toBe(0)
    const [request] = seen
    expect(request?.headers.get('authorization')).toBe(basic('svc-a', CLIENT_SECRET))
    expect(request?.form.get('grant_type')).toBe('client_credentials')
    expect(request?.form.get('scope')).toBe('orders:read orders:write admin')
    expect(request?.form.get('audience')).toBe('https://api.example')
    expect(request?.form.getAll('resource')).toEqual(['https://a.example/', 'https://b.example/'])
    expect(request?.form.get('tenant')).toBe('t1')
    expect(request?.form.has('client_secret')).toBe(false)
  })

  it.each([
    ['post', 'client_secret_post'],
    ['client_secret_post', 'client_secret_post'],
  ])('--client-auth %s puts the id and secret in the form body', async (flag) => {
    const seen = endpoint()
    expect((await cli([...base, '--client-secret-env', 'CS', '--client-auth', flag])).code).toBe(0)
    expect(seen[0]?.headers.has('authorization')).toBe(false)
    expect(seen[0]?.form.get('client_id')).toBe('svc-a')
    expect(seen[0]?.form.get('client_secret')).toBe(CLIENT_SECRET)
  })

  it('--client-auth none sends the client_id only', async () => {
    const seen = endpoint()
    expect((await cli([...base, '--client-auth', 'none'])).code).toBe(0)
    expect(seen[0]?.headers.has('authorization')).toBe(false)
    expect(seen[0]?.form.get('client_id')).toBe('svc-a')
    expect(seen[0]?.form.has('client_secret')).toBe(false)
  })
})

describe('secret sources', () => {
  it('reads the client secret from a file, dropping one trailing newline', async () => {
    const file = join(dir, 'client-secret')
    await writeFile(file, `${CLIENT_SECRET}\n`)
    const seen = endpoint()
    const result = await cli([...base, '--client-secret-file', file])
    expect(result.code).toBe(0)
    expect(seen[0]?.headers.get('authorization')).toBe(basic('svc-a', CLIENT_SECRET))
  })

  it('reads the client secret from stdin', async () => {
    const seen = endpoint()
    const result = await cli([...base, '--client-secret-stdin'], { stdin: `${CLIENT_SECRET}\n` })
    expect(result.code).toBe(0)
    expect(seen[0]?.headers.get('authorization')).toBe(basic('svc-a', CLIENT_SECRET))
  })

  it('accepts a secret as a plain flag value, with a warning that names the safer flags', async () => {
    const seen = endpoint()
    const result = await cli([...base, '--client-secret', CLIENT_SECRET])
    expect(result.code).toBe(0)
    expect(seen[0]?.headers.get('authorization')).toBe(basic('svc-a', CLIENT_SECRET))
    expect(result.stderr).toMatch(/warning: a client secret on the command line shows in shell history/)
    expect(result.stderr).toContain('--client-secret-env')
  })

  it('does not warn for a secret from env, a file or stdin', async () => {
    endpoint()
    expect((await cli([...base, '--client-secret-env', 'CS'])).stderr).toBe('')
  })

  it('runs the password grant with the password from env', async () => {
    const seen = endpoint()
    const args = [...base, '--client-secret-env', 'CS', '--grant', 'password', '--username', 'alice']
    expect((await cli([...args, '--password-env', 'PW'])).code).toBe(0)
    expect(Object.fromEntries(seen[0]?.form ?? [])).toMatchObject({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORD,
    })
  })

  it('runs the password grant with the password from stdin and the client secret from a file', async () => {
    const file = join(dir, 'cs2')
    await writeFile(file, CLIENT_SECRET)
    const seen = endpoint()
    const args = [...base, '--client-secret-file', file, '--grant', 'password', '--username', 'alice']
    expect((await cli([...args, '--password-stdin'], { stdin: PASSWORD })).code).toBe(0)
    expect(seen[0]?.form.get('password')).toBe(PASSWORD)
    expect(seen[0]?.headers.get('authorization')).toBe(basic('svc-a', CLIENT_SECRET))
  })

  it('runs the refresh_token grant from a file and warns that a rotated refresh token is not printed', async () => {
    const file = join(dir, 'rt')
    await writeFile(file, `${REFRESH_TOKEN}\n`)
    const seen = endpoint(() => tokenResponse({ refresh_token: 'rt-rotated-x' }))
    const result = await cli([
      ...base,
      '--client-secret-env',
      'CS',
      '--grant',
      'refresh_token',
      '--refresh-token-file',
      file,
    ])
    expect(result.code).toBe(0)
    expect(seen[0]?.form.get('grant_type')).toBe('refresh_token')
    expect(seen[0]?.form.get('refresh_token')).toBe(REFRESH_TOKEN)
    expect(result.stderr).toMatch(/new refresh token \(not printed\)/)
    expect(result.stdout + result.stderr).not.toContain('rt-rotated-x')
  })

  it('--refresh-token-out keeps the rotated refresh token in a 0600 file, replacing the one given', async () => {
    const file = join(dir, 'rt-out')
    await writeFile(file, `${REFRESH_TOKEN}\n`, { mode: 0o644 })
    const seen = endpoint(() => tokenResponse({ refresh_token: 'rt-rotated-y' }))
    const argv = [
      ...base,
      '--client-secret-env',
      'CS',
      '--grant',
      'refresh_token',
      '--refresh-token-file',
      file,
    ]
    const result = await cli([...argv, '--refresh-token-out', file])
    expect(result).toEqual({ code: 0, stdout: `${ACCESS_TOKEN}\n`, stderr: '' })
    expect(seen[0]?.form.get('refresh_token')).toBe(REFRESH_TOKEN)
    expect(await readFile(file, 'utf8')).toBe('rt-rotated-y\n')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('--refresh-token-out: a warning when no refresh token came; bad usage before any request when unwritable', async () => {
    const file = join(dir, 'never')
    const seen = endpoint()
    const none = await cli([...base, '--client-secret-env', 'CS', '--refresh-token-out', file])
    expect(none.code).toBe(0)
    expect(none.stderr).toMatch(/warning: the server issued no refresh token; .*never was not written/)
    await expect(stat(file)).rejects.toThrow(/ENOENT/)
    const bad = await cli([
      ...base,
      '--client-secret-env',
      'CS',
      '--refresh-token-out',
      join(dir, 'no', 'such', 'dir'),
    ])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/cannot write --refresh-token-out .* \(ENOENT\)/)
    expect(seen).toHaveLength(1)
  })

  it('runs the jwt-bearer, token-exchange and authorization_code grants', async () => {
    const seen = endpoint()
    const common = [...base, '--client-auth', 'none']
    expect((await cli([...common, '--grant', 'jwt-bearer', '--assertion-env', 'PW'])).code).toBe(0)
    const exchange = [
      '--grant',
      'token-exchange',
      '--subject-token-env',
      'RT',
      '--requested-token-type',
      'urn:x',
    ]
    expect((await cli([...common, ...exchange])).code).toBe(0)
    const code = ['--grant', 'authorization_code', '--code', 'c1', '--redirect-uri', 'https://app.example/cb']
    expect((await cli([...common, ...code, '--code-verifier', 'v1'])).code).toBe(0)
    expect(Object.fromEntries(seen[0]?.form ?? [])).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: PASSWORD,
    })
    expect(Object.fromEntries(seen[1]?.form ?? [])).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: REFRESH_TOKEN,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:x',
    })
    expect(Object.fromEntries(seen[2]?.form ?? [])).toMatchObject({
      grant_type: 'authorization_code',
      code: 'c1',
      redirect_uri: 'https://app.example/cb',
      code_verifier: 'v1',
    })
  })
})

describe('JWT client authentication and discovery', () => {
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))

  async function es256Pem(): Promise<{ pem: string; jwk: JsonWebKey }> {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
    ])) as CryptoKeyPair
    const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64')
    const pem = `-----BEGIN PRIVATE KEY-----\n${der.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`
    return { pem, jwk: await crypto.subtle.exportKey('jwk', pair.privateKey) }
  }

  it('--client-auth private-key-jwt signs an assertion with the PEM key from a file, with --key-id', async () => {
    const { pem } = await es256Pem()
    const file = join(dir, 'key.pem')
    await writeFile(file, pem)
    const seen = endpoint()
    const args = [...base, '--client-auth', 'private-key-jwt', '--private-key-file', file, '--key-id', 'k1']
    const result = await cli(args)
    expect(result.code).toBe(0)
    const form = seen[0]?.form
    expect(seen[0]?.headers.has('authorization')).toBe(false)
    expect(form?.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    const [header, payload] = (form?.get('client_assertion') ?? '').split('.')
    expect(decode(header)).toMatchObject({ alg: 'ES256', kid: 'k1' })
    expect(decode(payload)).toMatchObject({ iss: 'svc-a', sub: 'svc-a', aud: tokenEndpoint })
    expect(result.stdout + result.stderr).not.toContain(pem.split('\n')[1])
  })

  it('takes the private key as a JWK from an environment variable', async () => {
    const { jwk } = await es256Pem()
    const seen = endpoint()
    const args = [...base, '--client-auth', 'private_key_jwt', '--private-key-env', 'KEY']
    expect((await cli(args, { env: { KEY: JSON.stringify(jwk) } })).code).toBe(0)
    expect(decode(seen[0]?.form.get('client_assertion')?.split('.')[0])).toMatchObject({ alg: 'ES256' })
  })

  it('--client-auth client-secret-jwt signs with the client secret instead of sending it', async () => {
    const seen = endpoint()
    const result = await cli([...base, '--client-auth', 'client-secret-jwt', '--client-secret-env', 'CS'])
    expect(result.code).toBe(0)
    expect(seen[0]?.form.has('client_secret')).toBe(false)
    expect(decode(seen[0]?.form.get('client_assertion')?.split('.')[0])).toMatchObject({ alg: 'HS256' })
  })

  it('--issuer discovers the token endpoint (RFC 8414)', async () => {
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        HttpResponse.json({ issuer: 'https://as.test', token_endpoint: tokenEndpoint }),
      ),
    )
    const seen = endpoint()
    const args = ['token', '--issuer', 'https://as.test', '--client-id', 'svc-a', '--client-secret-env', 'CS']
    expect(await cli(args)).toEqual({ code: 0, stdout: `${ACCESS_TOKEN}\n`, stderr: '' })
    expect(seen).toHaveLength(1)
  })

  it('fails with the discovery error when the metadata names another issuer', async () => {
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        HttpResponse.json({ issuer: 'https://evil.test', token_endpoint: tokenEndpoint }),
      ),
    )
    const args = ['token', '--issuer', 'https://as.test', '--client-id', 'svc-a', '--client-secret-env', 'CS']
    const result = await cli(args)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^tokenwell: .* \[ERR_DISCOVERY\]\n$/)
  })
})

describe('failures (exit 1)', () => {
  it("prints the server's OAuth error and description, never the secret", async () => {
    endpoint(() =>
      HttpResponse.json(
        { error: 'invalid_client', error_description: 'Client authentication failed' },
        { status: 401 },
      ),
    )
    const result = await cli([...base, '--client-secret-env', 'CS'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      'tokenwell: token endpoint returned "invalid_client" (HTTP 401): Client authentication failed [ERR_OAUTH]\n',
    )
  })

  it('masks a secret that a server echoes back in its error description', async () => {
    endpoint(() =>
      HttpResponse.json(
        { error: 'invalid_grant', error_description: `bad password ${PASSWORD}` },
        { status: 400 },
      ),
    )
    const args = [...base, '--client-secret-env', 'CS', '--grant', 'password', '--username', 'a']
    const result = await cli([...args, '--password-env', 'PW'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('bad password [REDACTED]')
  })

  it('fails with a response that is not a token response', async () => {
    endpoint(
      () => new HttpResponse('<html>oops</html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    )
    const result = await cli([...base, '--client-secret-env', 'CS'])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'tokenwell: token endpoint returned text/html, not JSON (HTTP 200) [ERR_TOKEN_RESPONSE]\n',
    )
  })

  it('gives up at --timeout, retries included', async () => {
    endpoint(async () => {
      await delay(5_000)
      return tokenResponse()
    })
    const result = await cli([...base, '--client-secret-env', 'CS', '--timeout', '150ms'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^tokenwell: .*(timed out after 150 ms|no token within 150ms).* \[ERR_TOKEN_REQUEST\]\n$/,
    )
  })

  it('prints the stack only under --debug', async () => {
    const failing = () => HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
    endpoint(failing)
    const plain = await cli([...base, '--client-secret-env', 'CS'])
    expect(plain.stderr).not.toMatch(/\n\s+at /)
    endpoint(failing)
    const debug = await cli([...base, '--client-secret-env', 'CS', '--debug'])
    expect(debug.code).toBe(1)
    expect(debug.stderr).toMatch(
      /^tokenwell: token endpoint returned "invalid_client" \(HTTP 401\) \[ERR_OAUTH\]\n/,
    )
    expect(debug.stderr).toMatch(/OAuthError: .*\n\s+at /)
  })
})

describe('bad usage (exit 2)', () => {
  it.each([
    [['token', '--client-id', 'x', '--client-auth', 'none'], /give --token-endpoint URL, or --issuer URL/],
    [
      [...base, '--issuer', 'https://as.test', '--client-auth', 'none'],
      /give --token-endpoint URL, or --issuer URL to discover it \(not both\)/,
    ],
    [[...base, '--private-key-env', 'PW'], /--client-auth basic takes no private key/],
    [
      [...base, '--client-auth', 'private-key-jwt', '--client-secret-env', 'CS'],
      /--client-auth private-key-jwt takes no client secret/,
    ],
    [[...base, '--client-auth', 'private-key-jwt'], /a private key is required: give --private-key-env VAR/],
    [
      [...base, '--client-secret-env', 'CS', '--key-id', 'k'],
      /--key-id applies to JWT client authentication only/,
    ],
    [
      [...base, '--client-auth', 'private-key-jwt', '--private-key-env', 'PW'],
      /^tokenwell: the private key string must be a PKCS#8 PEM/,
    ],
    [['token', '--token-endpoint', tokenEndpoint, '--client-auth', 'none'], /--client-id is required/],
    [[...base, '--client-auth', 'none', '--bogus'], /Unknown option '--bogus'/],
    [[...base, '--client-auth', 'none', 'extra'], /no positional arguments/],
    [[...base, '--client-auth', 'none', '--output', 'yaml'], /--output must be one of token, json, header/],
    [[...base, '--client-auth', 'none', '--grant', 'implicit'], /--grant must be one of/],
    [[...base, '--client-auth', 'jwt'], /--client-auth must be one of/],
    [base, /a client secret is required: give --client-secret-env VAR/],
    [
      [...base, '--client-auth', 'none', '--client-secret-env', 'CS'],
      /--client-auth none takes no client secret/,
    ],
    [[...base, '--client-secret-env', 'CS', '--client-secret-file', 'f'], /give the client secret once/],
    [
      [...base, '--client-secret-env', 'NOPE'],
      /environment variable NOPE \(--client-secret-env\) is not set/,
    ],
    [[...base, '--client-secret-file', '/nonexistent/x'], /cannot read the client secret file .*ENOENT/],
    [
      [...base, '--client-secret-env', 'CS', '--grant', 'password', '--password-env', 'PW'],
      /needs --username/,
    ],
    [
      [...base, '--client-secret-env', 'CS', '--grant', 'password', '--username', 'a'],
      /a password is required/,
    ],
    [
      [...base, '--client-secret-env', 'CS', '--username', 'a'],
      /--username does not apply to --grant client_credentials/,
    ],
    [[...base, '--client-secret-env', 'CS', '--password-env', 'PW'], /--password-env does not apply/],
    [
      [...base, '--client-secret-stdin', '--grant', 'password', '--username', 'a', '--password-stdin'],
      /only one secret can come from stdin/,
    ],
    [[...base, '--client-secret-env', 'CS', '--timeout', 'soon'], /--timeout must be a duration/],
    [[...base, '--client-secret-env', 'CS', '--param', 'novalue'], /--param must be NAME=VALUE/],
    [[...base, '--client-secret-env', 'CS', '--param', 'scope=x'], /extraParams.scope is set by tokenwell/],
    [[...base, '--client-secret-env', 'CS', '--ca', '/nonexistent/ca.pem'], /cannot read --ca/],
    [
      ['token', '--token-endpoint', 'http://auth.example/token', '--client-id', 'x', '--client-auth', 'none'],
      /^tokenwell: --token-endpoint must be https:/,
    ],
    [
      ['token', '--token-endpoint', 'not a url', '--client-id', 'x', '--client-auth', 'none'],
      /--token-endpoint must be an absolute/,
    ],
  ])('%j', async (argv, message) => {
    const result = await cli(argv)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toMatch(
      / \[ERR_USAGE\]\nUsage: tokenwell token --token-endpoint URL --client-id ID \[options\]\n/,
    )
    expect(result.stderr).toContain("Run 'tokenwell token --help' for all options.")
  })

  it('does not echo a secret given to a misspelt flag', async () => {
    const result = await cli([...base, `--client-secert=${CLIENT_SECRET}`])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Unknown option '--client-secert'/)
  })

  it('rejects a --ca file that holds no certificate', async () => {
    const file = join(dir, 'not-a-cert.pem')
    await writeFile(file, 'hello')
    const result = await cli([...base, '--client-secret-env', 'CS', '--ca', file])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--ca .* holds no PEM certificate/)
  })
})
