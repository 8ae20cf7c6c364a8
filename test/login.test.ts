import { type CliIo, main } from '@tokenwell/cli'
import { type RunningMockAuthServer, startMockAuthServer } from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// `tokenwell login` in-process against the mock server: the test is the user, acting on what the
// command prints on stderr (opening the URL in a "browser", approving the device).
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'

let auth: RunningMockAuthServer
beforeAll(async () => {
  auth = await startMockAuthServer({ clients: [{ clientId: 'my-cli' }], deviceInterval: 0.02 })
})
afterAll(() => auth?.close())

/** Runs `main(argv)`; `user(stderrSoFar)` is called after each stderr write and may act on it. */
async function login(argv: readonly string[], user: (stderr: string) => void) {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: {
      write(text: string) {
        stderr += text
        user(stderr)
        return true
      },
    },
    stdin: (async function* () {})(),
    env: {},
  }
  const code = await main(argv, io)
  return { code, stdout, stderr }
}

describe('tokenwell login against the mock server', () => {
  it('authorization code + PKCE through the loopback redirect: the browser follows the URL, the token comes out', async () => {
    auth.stats.reset()
    let browser: Promise<string> | undefined
    const result = await login(
      [
        'login',
        '--issuer',
        auth.issuer,
        '--client-id',
        'my-cli',
        '--scope',
        'openid offline_access',
        '-o',
        'json',
      ],
      (stderr) => {
        const url = stderr.match(/^ {2}(http\S+)$/m)?.[1]
        // the browser: /authorize approves at once and redirects to http://127.0.0.1:<port>/callback
        if (url && !browser) browser = fetch(url).then((response) => response.text())
      },
    )
    expect(await browser).toMatch(/You can close this window/)
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(await auth.verifyAccessToken(json.accessToken)).toMatchObject({
      sub: 'alice',
      client_id: 'my-cli',
    })
    expect(auth.stats.authorizeRequests).toBe(1)
    expect(auth.stats.byGrant).toMatchObject({ authorization_code: 1, refresh_token: 0 })
    const [exchange] = auth.requests
    expect(exchange?.params).toMatchObject({
      code: '[REDACTED]',
      code_verifier: '[REDACTED]',
      client_id: 'my-cli',
    })
    expect(result.stderr).not.toContain(json.accessToken)
  })

  it('--device: the user approves the printed code, the command stops polling and prints the token', async () => {
    auth.stats.reset()
    let approved = false
    const result = await login(
      ['login', '--device', '--issuer', auth.issuer, '--client-id', 'my-cli'],
      (stderr) => {
        const userCode = stderr.match(/enter the code:\n\n {2}(\S+)\n/)?.[1]
        if (userCode && !approved) approved = auth.approveDevice(userCode)
      },
    )
    expect(approved).toBe(true)
    expect(result.code).toBe(0)
    expect(await auth.verifyAccessToken(result.stdout.trim())).toMatchObject({ sub: 'alice' })
    expect(result.stderr).toContain(auth.verificationUri)
    expect(auth.stats.deviceAuthorizationRequests).toBe(1)
    expect(auth.stats.tokensIssued).toBe(1)
    expect(auth.requests.filter((r) => r.grantType === DEVICE && r.status === 200)).toHaveLength(1)
  })
})
