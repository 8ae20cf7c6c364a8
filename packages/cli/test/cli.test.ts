import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, removeBundle, runCli } from './subprocess.js'

// `tokenwell` as a child process against a real authorization server on 127.0.0.1
const CLIENT_SECRET = 'sub-cs-2f8e41d07a'
const PASSWORD = 'sub-pw-93b7c5e1aa'
const SECRETS = [CLIENT_SECRET, PASSWORD]

let auth: RunningMockAuthServer
let dir: string
const results: CliResult[] = []

let keyFile: string
let keyPem: string

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).toString('base64')
  keyPem = `-----BEGIN PRIVATE KEY-----\n${der.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
  auth = await startMockAuthServer({
    clients: [
      { clientId: 'svc-a', clientSecret: CLIENT_SECRET },
      { clientId: 'spa' },
      { clientId: 'jwt-svc', jwks: { keys: [{ kty, crv, x, y, kid: 'k1', alg: 'ES256' } as JsonWebKey] } },
    ],
    users: [{ username: 'alice', password: PASSWORD }],
  })
  dir = await mkdtemp(join(tmpdir(), 'tokenwell-cli-'))
  keyFile = join(dir, 'jwt-svc.pem')
  await writeFile(keyFile, keyPem)
})
afterAll(async () => {
  removeBundle()
  await rm(dir, { recursive: true, force: true })
  await auth.close()
  // every subprocess's stdout and stderr: the secrets it was given never came out
  const printed = results.map((r) => r.stdout + r.stderr).join('\n')
  for (const secret of [...SECRETS, keyPem.split('\n')[1] ?? '-']) expect(printed).not.toContain(secret)
  expect(results.length).toBeGreaterThan(10)
})

async function cli(args: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  const result = await runCli(args, options)
  results.push(result)
  return result
}

const base = () => ['token', '--token-endpoint', auth.tokenEndpoint, '--client-id', 'svc-a']
const env = { CLIENT_SECRET }

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

// each child starts node and compiles the sources: generous timeouts for a busy 2-core machine
describe.concurrent('tokenwell token (subprocess)', { timeout: 30_000 }, () => {
  it('exit 0: prints a token the server accepts, and nothing on stderr', async () => {
    const result = await cli([...base(), '--client-secret-env', 'CLIENT_SECRET'], { env })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    const claims = await auth.verifyAccessToken(result.stdout.trim())
    expect(claims?.client_id).toBe('svc-a')
  })

  it('--output json: the access token and its non-secret fields', async () => {
    const result = await cli(
      [...base(), '--client-secret-env', 'CLIENT_SECRET', '--scope', 'orders:read', '-o', 'json'],
      {
        env,
      },
    )
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(json).toMatchObject({ tokenType: 'Bearer', scope: 'orders:read', expiresIn: expect.any(Number) })
    expect(Object.keys(json).sort()).toEqual(['accessToken', 'expiresAt', 'expiresIn', 'scope', 'tokenType'])
    expect(await auth.verifyAccessToken(json.accessToken)).toBeDefined()
  })

  it('--output header: an Authorization header line', async () => {
    const result = await cli([...base(), '--client-secret-env', 'CLIENT_SECRET', '--output', 'header'], {
      env,
    })
    expect(result.code).toBe(0)
    const [, token] = /^Authorization: Bearer (\S+)\n$/.exec(result.stdout) ?? []
    expect(await auth.verifyAccessToken(token ?? '')).toBeDefined()
  })

  it('reads the client secret from a file, and from stdin', async () => {
    const file = join(dir, 'secret')
    await writeFile(file, `${CLIENT_SECRET}\n`)
    const fromFile = await cli([...base(), '--client-secret-file', file])
    const fromStdin = await cli([...base(), '--client-secret-stdin'], { stdin: `${CLIENT_SECRET}\n` })
    for (const result of [fromFile, fromStdin]) {
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      expect(await auth.verifyAccessToken(result.stdout.trim())).toBeDefined()
    }
  })

  it('runs the password grant with --client-auth post, the password from stdin', async () => {
    const args = [...base(), '--client-secret-env', 'CLIENT_SECRET', '--client-auth', 'post']
    const result = await cli([...args, '--grant', 'password', '--username', 'alice', '--password-stdin'], {
      env,
      stdin: PASSWORD,
    })
    expect(result.code).toBe(0)
    expect((await auth.verifyAccessToken(result.stdout.trim()))?.sub).toBe('alice')
  })

  it('a public client with --client-auth none', async () => {
    const result = await cli([
      'token',
      '--token-endpoint',
      auth.tokenEndpoint,
      '--client-id',
      'spa',
      '--client-auth',
      'none',
    ])
    expect(result.code).toBe(0)
    expect((await auth.verifyAccessToken(result.stdout.trim()))?.client_id).toBe('spa')
  })

  it('private_key_jwt with a PEM key file, the endpoint discovered from --issuer', async () => {
    const args = [
      'token',
      '--issuer',
      auth.issuer,
      '--client-id',
      'jwt-svc',
      '--client-auth',
      'private-key-jwt',
    ]
    const result = await cli([...args, '--private-key-file', keyFile, '--key-id', 'k1'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect((await auth.verifyAccessToken(result.stdout.trim()))?.client_id).toBe('jwt-svc')
  })

  it('warns when the secret is a plain flag value, and still works', async () => {
    const result = await cli([...base(), '--client-secret', CLIENT_SECRET])
    expect(result.code).toBe(0)
    expect(await auth.verifyAccessToken(result.stdout.trim())).toBeDefined()
    expect(result.stderr).toBe(
      'tokenwell: warning: a client secret on the command line shows in shell history and the process list; ' +
        'prefer --client-secret-env, --client-secret-file or --client-secret-stdin\n',
    )
  })

  it("exit 1 on invalid_client, with the server's error and description on stderr", async () => {
    const result = await cli([...base(), '--client-secret-env', 'WRONG'], {
      env: { WRONG: 'not-the-secret' },
    })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      'tokenwell: token endpoint returned "invalid_client" (HTTP 401): client authentication failed [ERR_OAUTH]\n',
    )
  })

  it('exit 1 on a network failure (nothing listening), naming the reason', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/token`
    const result = await cli(
      ['token', '--token-endpoint', endpoint, '--client-id', 'svc-a', '--client-secret-env', 'CLIENT_SECRET'],
      {
        env,
      },
    )
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /^tokenwell: token request failed: network error \(.*ECONNREFUSED.*\) \[ERR_TOKEN_REQUEST\]\n$/,
    )
  })

  it('exit 2 on bad usage, with the usage line, before any request', async () => {
    const args = ['token', '--token-endpoint', auth.tokenEndpoint, '--client-id', 'usage-check']
    const result = await cli([...args, '--client-secret-env', 'CLIENT_SECRET', '--output', 'xml'], { env })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      'tokenwell: --output must be one of token, json, header [ERR_USAGE]\n' +
        'Usage: tokenwell token --token-endpoint URL --client-id ID [options]\n' +
        "Run 'tokenwell token --help' for all options.\n",
    )
    expect(auth.requests.filter((r) => r.clientId === 'usage-check')).toEqual([])
  })

  it('tokenwell demo: exit 0 and the report on stdout, nothing on stderr when it is not a terminal', async () => {
    const result = await cli(['demo', '--calls', '10'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    for (const client of ['axios', 'got', 'fetch', 'undici', 'ky'])
      expect(result.stdout).toContain(`\n${client}: `)
    expect(result.stdout.match(/ ✓ /g)).toHaveLength(15)
    expect(result.stdout).toMatch(
      /\n✓ all 15 checks passed: 150 calls, \d+ × 401 recovered, 15 token requests in /,
    )
  })

  it.each([
    [['--help'], 'Usage: tokenwell <command> [options]'],
    [['token', '--help'], 'Usage: tokenwell token --token-endpoint URL --client-id ID [options]'],
    [['demo', '--help'], 'Usage: tokenwell demo [options]'],
  ])('%j prints help and exits 0', async (args, first) => {
    const result = await cli(args)
    expect(result.code).toBe(0)
    expect(result.stdout.split('\n')[0]).toBe(first)
    expect(result.stderr).toBe('')
  })
})
