import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliResult, removeBundle, runCli, startCli } from './subprocess.js'

// `tokenwell login` as a child process against a real authorization server on 127.0.0.1; the
// test plays the user: it reads what the CLI prints on stderr and acts on it.
const CLIENT_SECRET = 'login-cs-5e0c93b1d2'
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'

let auth: RunningMockAuthServer
let dir: string
const results: CliResult[] = []
const refreshTokens: string[] = []

beforeAll(async () => {
  auth = await startMockAuthServer({
    clients: [
      { clientId: 'my-cli' },
      { clientId: 'tv-app', clientSecret: CLIENT_SECRET },
      { clientId: 'picky-cli' },
    ],
    scopes: ['openid', 'offline_access', 'read'],
    deviceInterval: 0.05, // 50 ms between polls: a login takes no wall time worth mentioning
  })
  dir = await mkdtemp(join(tmpdir(), 'tokenwell-login-'))
})
afterAll(async () => {
  removeBundle()
  await rm(dir, { recursive: true, force: true })
  await auth.close()
  // no secret it was given or got came out on stderr; on stdout only the access token it was asked for
  for (const { stdout, stderr } of results) {
    for (const secret of [CLIENT_SECRET, ...refreshTokens]) expect(stdout + stderr).not.toContain(secret)
    const token = stdout.match(/[\w-]+\.[\w-]+\.[\w-]+/)?.[0]
    if (token) expect(stderr).not.toContain(token)
  }
  expect(results.length).toBeGreaterThanOrEqual(6)
})

async function finished(result: Promise<CliResult>): Promise<CliResult> {
  const done = await result
  results.push(done)
  return done
}

/** A browser in a child process (this one's fetch belongs to msw): fetch `url`, following redirects. */
const BROWSER = 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t))'

/** The browser's part: the authorization server approves at once and redirects to the loopback listener. */
function browse(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', BROWSER, url], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    )
  })
}

const USER_CODE = /enter the code:\n\n {2}([A-Z]{4}-[A-Z]{4})\n/

describe.concurrent('tokenwell login (subprocess)', { timeout: 60_000 }, () => {
  it('browser flow: prints the URL on stderr, takes the redirect, prints the token; --refresh-token-out keeps the refresh token (0600)', async () => {
    const file = join(dir, 'browser.rt')
    const cli = await startCli([
      'login',
      '--issuer',
      auth.issuer,
      '--client-id',
      'my-cli',
      '--scope',
      'openid offline_access',
      '--refresh-token-out',
      file,
    ])
    const [, url] = await cli.stderrMatch(/^ {2}(http\S+)$/m)
    const authorizeUrl = new URL(url!)
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(auth.authorizationEndpoint)
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorizeUrl.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(await browse(url!)).toMatch(/You can close this window/)
    const result = await finished(cli.result)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(await auth.verifyAccessToken(result.stdout.trim())).toMatchObject({
      sub: 'alice',
      client_id: 'my-cli',
      scope: 'openid offline_access',
    })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const refreshToken = (await readFile(file, 'utf8')).trim()
    refreshTokens.push(refreshToken)
    // a script keeps the session with tokenwell token, the file following the rotating refresh token
    const refresh = () =>
      finished(
        runCli([
          'token',
          '--token-endpoint',
          auth.tokenEndpoint,
          '--client-id',
          'my-cli',
          '--client-auth',
          'none',
          '--grant',
          'refresh_token',
          '--refresh-token-file',
          file,
          '--refresh-token-out',
          file,
        ]),
      )
    for (let round = 0; round < 2; round++) {
      const next = await refresh()
      expect(next).toMatchObject({ code: 0, stderr: '' })
      expect(await auth.verifyAccessToken(next.stdout.trim())).toMatchObject({ sub: 'alice' })
      const rotated = (await readFile(file, 'utf8')).trim()
      expect(rotated).not.toBe(refreshTokens.at(-1))
      refreshTokens.push(rotated)
      expect((await stat(file)).mode & 0o777).toBe(0o600)
    }
  })

  it('browser flow with explicit endpoints and --open: the platform opener is started with the URL', async () => {
    // a fake xdg-open on PATH plays the browser, as a real one would hand the URL to it
    const bin = join(dir, 'opener')
    await mkdir(bin)
    const opened = join(dir, 'opened.txt')
    const script = join(bin, 'xdg-open')
    await writeFile(
      script,
      `#!/bin/sh\necho "$1" > '${opened}'\nexec '${process.execPath}' -e '${BROWSER}' "$1"\n`,
    )
    await chmod(script, 0o755)
    const cli = await startCli(
      [
        'login',
        '--authorization-endpoint',
        auth.authorizationEndpoint,
        '--token-endpoint',
        auth.tokenEndpoint,
        '--client-id',
        'my-cli',
        '--open',
        '-o',
        'header',
      ],
      { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } },
    )
    const [, url] = await cli.stderrMatch(/^ {2}(http\S+)$/m)
    const result = await finished(cli.result)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect((await readFile(opened, 'utf8')).trim()).toBe(url)
  })

  it('browser flow: the server’s error in the redirect is exit 1 with its error, before any token request', async () => {
    const cli = await startCli([
      'login',
      '--issuer',
      auth.issuer,
      '--client-id',
      'picky-cli',
      '--scope',
      'admin',
    ])
    const [, url] = await cli.stderrMatch(/^ {2}(http\S+)$/m)
    expect(await browse(url!)).toMatch(/Sign-in failed/)
    const result = await finished(cli.result)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /tokenwell: authorization server returned "invalid_scope": scope not allowed \[ERR_AUTHORIZATION\]/,
    )
    expect(auth.stats.byClient['picky-cli']).toBe(0)
  })

  it('--device: prints the verification URI and user code, polls until approved, prints the token as JSON', async () => {
    const file = join(dir, 'device.rt')
    const cli = await startCli(
      [
        'login',
        '--device',
        '--issuer',
        auth.issuer,
        '--client-id',
        'tv-app',
        '--client-auth',
        'basic',
        '--client-secret-env',
        'CS',
        '--scope',
        'read offline_access',
        '-o',
        'json',
        '--refresh-token-out',
        file,
      ],
      { env: { CS: CLIENT_SECRET } },
    )
    const [, userCode] = await cli.stderrMatch(USER_CODE)
    const printed = await cli.stderrMatch(/open this page in a browser on any device:\n\n {2}(\S+)\n/)
    expect(printed[1]).toBe(auth.verificationUri)
    await cli.stderrMatch(/Waiting for approval; the code expires in 10m/)
    expect(auth.approveDevice(userCode!, { username: 'alice' })).toBe(true)
    const result = await finished(cli.result)
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(json).toMatchObject({
      tokenType: 'Bearer',
      scope: 'read offline_access',
      expiresIn: expect.any(Number),
    })
    expect(json).not.toHaveProperty('refreshToken')
    expect(await auth.verifyAccessToken(json.accessToken)).toMatchObject({
      sub: 'alice',
      client_id: 'tv-app',
    })
    refreshTokens.push((await readFile(file, 'utf8')).trim())
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(
      auth.requests.some((r) => r.grantType === DEVICE && r.clientId === 'tv-app' && r.status === 200),
    ).toBe(true)
  })

  it('--device: a denial is exit 1 with ERR_AUTHORIZATION, and polling stops', async () => {
    const cli = await startCli(['login', '--device', '--issuer', auth.issuer, '--client-id', 'my-cli'])
    const [, userCode] = await cli.stderrMatch(USER_CODE)
    expect(auth.denyDevice(userCode!)).toBe(true)
    const result = await finished(cli.result)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /tokenwell: the user denied the device authorization: the user denied the request \[ERR_AUTHORIZATION\]\n$/,
    )
  })

  it('--device --timeout: nobody approves, exit 1 in time', async () => {
    const cli = await startCli([
      'login',
      '--device',
      '--issuer',
      auth.issuer,
      '--client-id',
      'my-cli',
      '--timeout',
      '1s',
    ])
    await cli.stderrMatch(USER_CODE)
    const result = await finished(cli.result)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /the device authorization was not approved within 1s \(--timeout\) \[ERR_AUTHORIZATION\]/,
    )
  })

  it('bad usage is exit 2 with the usage line', async () => {
    const result = await finished(
      runCli(['login', '--device', '--issuer', auth.issuer, '--client-id', 'my-cli', '--port', '8080']),
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--port does not apply to --device/)
    expect(result.stderr).toContain('\nUsage: tokenwell login')
  })
})
