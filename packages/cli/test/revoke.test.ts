import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from './memory-io.js'

const revocationEndpoint = 'https://as.test/revoke'
const CLIENT_SECRET = 'cs-revoke-3b9f-secret'
const TOKEN = 'rt-revoke-8c2d-token'
const base = ['revoke', '--revocation-endpoint', revocationEndpoint, '--client-id', 'svc-a']
const env = { CS: CLIENT_SECRET, TOK: TOKEN }
const outputs: string[] = []
afterAll(() => {
  // neither the client secret nor the token ever shows
  const all = outputs.join('\n')
  expect(all).not.toContain(CLIENT_SECRET)
  expect(all).not.toContain(TOKEN)
})

function endpoint(
  answer: (form: URLSearchParams) => Response = () => new HttpResponse(null, { status: 200 }),
) {
  const seen: { form: URLSearchParams; headers: Headers }[] = []
  server.use(
    http.post(revocationEndpoint, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      seen.push({ form, headers: request.headers })
      return answer(form)
    }),
  )
  return seen
}

async function cli(argv: readonly string[], options: { stdin?: string } = {}) {
  const result = await run(argv, { env, ...options })
  outputs.push(result.stdout, result.stderr)
  return result
}

describe('tokenwell revoke', () => {
  it('revokes the token from --token-env with Basic client authentication; nothing on stdout', async () => {
    const seen = endpoint()
    const result = await cli([
      ...base,
      '--client-secret-env',
      'CS',
      '--token-env',
      'TOK',
      '--token-type-hint',
      'refresh_token',
    ])
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'tokenwell: revoked the refresh token\n' })
    expect(seen).toHaveLength(1)
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ token: TOKEN, token_type_hint: 'refresh_token' })
    expect(seen[0]!.headers.get('authorization')).toBe(`Basic ${btoa(`svc-a:${CLIENT_SECRET}`)}`)
  })

  it('reads the token from a file or stdin (one trailing newline dropped), as an access token by default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokenwell-revoke-'))
    try {
      await writeFile(join(dir, 'token'), `${TOKEN}\n`)
      const seen = endpoint()
      expect((await cli([...base, '--client-auth', 'none', '--token-file', join(dir, 'token')])).code).toBe(0)
      expect(
        (await cli([...base, '--client-auth', 'none', '--token-stdin'], { stdin: `${TOKEN}\n` })).code,
      ).toBe(0)
      expect(seen.map(({ form }) => Object.fromEntries(form))).toEqual([
        { token: TOKEN, token_type_hint: 'access_token', client_id: 'svc-a' },
        { token: TOKEN, token_type_hint: 'access_token', client_id: 'svc-a' },
      ])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('fails with exit 1 on an OAuth error, naming the error but not the token', async () => {
    endpoint(() =>
      HttpResponse.json({ error: 'invalid_client', error_description: `bad ${TOKEN}` }, { status: 401 }),
    )
    const result = await cli([...base, '--client-secret-env', 'CS', '--token-env', 'TOK'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/revocation endpoint returned "invalid_client" \(HTTP 401\).*\[ERR_OAUTH\]/)
  })

  it('fails with exit 1 when the server does not revoke access tokens', async () => {
    endpoint(() => HttpResponse.json({ error: 'unsupported_token_type' }, { status: 400 }))
    const result = await cli([...base, '--client-secret-env', 'CS', '--token-env', 'TOK'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/does not revoke access tokens/)
  })

  it.each([
    [
      ['revoke', '--client-id', 'a', '--token-env', 'TOK', '--client-auth', 'none'],
      /--issuer URL .* or --revocation-endpoint/,
    ],
    [[...base, '--client-auth', 'none'], /give the token once/],
    [[...base, '--client-auth', 'none', '--token-env', 'TOK', '--token-stdin'], /give the token once/],
    [
      [...base, '--client-auth', 'none', '--token-env', 'TOK', '--token-type-hint', 'id_token'],
      /--token-type-hint must be/,
    ],
    [[...base, '--client-auth', 'none', '--token-env', 'NOPE'], /no token in what --token-env names/],
    [[...base, '--token-env', 'TOK'], /client secret is required/],
    [
      [...base, '--client-auth', 'none', '--client-secret-env', 'CS', '--token-env', 'TOK'],
      /takes no client secret/,
    ],
    [[...base, '--client-auth', 'none', '--token', TOKEN], /Unknown option '--token'/],
    [
      [...base, '--client-auth', 'tls', '--token-env', 'TOK'],
      /--client-auth tls needs --cert, which only tokenwell token takes/,
    ],
  ])('exits 2 on bad usage, sending nothing: %j', async (argv, message) => {
    const seen = endpoint()
    const result = await cli(argv)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(seen).toHaveLength(0)
  })

  it('documents itself in --help and in the command list', async () => {
    const help = await cli(['revoke', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/--token-type-hint/)
    expect((await cli(['--help'])).stdout).toMatch(/revoke +revoke an access or refresh token/)
  })
})
