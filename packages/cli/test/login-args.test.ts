import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from './memory-io.js'

// `tokenwell login` usage, in-process: every case here fails before any request is made (msw
// would fail the test on one) and before anyone is asked to sign in.
const issuer = 'https://login.example.com'
const A = ['--authorization-endpoint', `${issuer}/authorize`]
const D = ['--device-authorization-endpoint', `${issuer}/device`]
const T = ['--token-endpoint', `${issuer}/token`]
const C = ['--client-id', 'my-cli']

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenwell-login-args-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('tokenwell login: help and bad usage', () => {
  it('--help documents both flows, the output modes, --refresh-token-out and the exit codes', async () => {
    const result = await run(['login', '--help'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout.startsWith('Usage: tokenwell login')).toBe(true)
    for (const text of [
      '--device',
      '--open',
      '--port N',
      '--output token|json|header',
      '--refresh-token-out FILE',
      'mode 0600',
      'Exit status',
    ]) {
      expect(result.stdout).toContain(text)
    }
    expect((await run(['--help'])).stdout).toMatch(/^ {2}login {4}sign a user in/m)
    expect((await run(['help', 'login'])).stdout).toBe(result.stdout)
  })

  it.each([
    [[...C], /give --issuer URL, or --authorization-endpoint URL and --token-endpoint URL \(not both\)/],
    [['--issuer', issuer, ...T, ...C], /not both/],
    [[...A, ...C], /--authorization-endpoint URL and --token-endpoint URL/],
    [
      ['--device', ...C],
      /give --issuer URL, or --device-authorization-endpoint URL and --token-endpoint URL/,
    ],
    [['--device', ...A, ...T, ...C], /--authorization-endpoint does not apply to --device/],
    [[...D, ...T, ...C], /--device-authorization-endpoint needs --device/],
    [['--issuer', issuer], /--client-id is required/],
    [['--issuer', issuer, ...C, '--port', '70000'], /--port must be a port number/],
    [['--issuer', issuer, ...C, '--port', 'http'], /--port must be a port number/],
    [['--device', '--issuer', issuer, ...C, '--port', '0'], /--port does not apply to --device/],
    [
      ['--issuer', issuer, ...C, '--client-auth', 'basic'],
      /a client secret is required: give --client-secret-env VAR/,
    ],
    [['--issuer', issuer, ...C, '--client-secret-env', 'CS'], /--client-auth none takes no client secret/],
    [['--issuer', issuer, ...C, '--key-id', 'k1'], /--key-id applies to JWT client authentication only/],
    [['--issuer', issuer, ...C, '--client-auth', 'magic'], /--client-auth must be one of/],
    [
      ['--issuer', issuer, ...C, '--client-auth', 'self-signed-tls'],
      /--client-auth self-signed-tls needs --cert, which only tokenwell token takes/,
    ],
    [['--issuer', issuer, ...C, '-o', 'xml'], /--output must be one of token, json, header/],
    [['--issuer', issuer, ...C, '--timeout', 'soon'], /--timeout must be a duration/],
    [['--issuer', issuer, ...C, '--grant', 'password'], /Unknown option '--grant'/],
    [['--issuer', issuer, ...C, 'extra'], /login takes no positional arguments/],
    [
      ['--issuer', issuer, ...C, '--ca', '/nonexistent/ca.pem'],
      /cannot read --ca \/nonexistent\/ca.pem \(ENOENT\)/,
    ],
    [
      ['--issuer', issuer, ...C, '--refresh-token-out', '/nonexistent/dir/rt'],
      /cannot write --refresh-token-out \/nonexistent\/dir\/rt \(ENOENT\)/,
    ],
    [
      ['--issuer', issuer, ...C, '--client-auth', 'post', '--client-secret-env', 'UNSET'],
      /environment variable UNSET \(--client-secret-env\) is not set/,
    ],
  ])('login %j: exit 2 with the login usage line', async (argv, message) => {
    const result = await run(['login', ...argv])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toContain('\nUsage: tokenwell login')
  })

  it('--refresh-token-out naming a directory is bad usage, found before the login starts', async () => {
    const result = await run(['login', '--issuer', issuer, ...C, '--refresh-token-out', dir])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/cannot write --refresh-token-out .* \(EISDIR\)/)
  })
})
