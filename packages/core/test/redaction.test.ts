import { inspect } from 'node:util'
import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { createTokenProvider, type Logger, type TokenProviderOptions } from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'
const SECRETS = [
  'client-secret-XYZ',
  'user-password-XYZ',
  'access-token-XYZ',
  'refresh-token-XYZ',
  'id-token-XYZ',
]

function expectNoSecret(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret)
}

/** Everything a user could print: the value, its inspect, its JSON, and for errors their cause chain. */
function printed(value: unknown): string {
  return [String(value), inspect(value, { depth: 10, showHidden: false }), JSON.stringify(value) ?? ''].join(
    '\n',
  )
}

const options: TokenProviderOptions = {
  tokenEndpoint,
  clientId: 'c',
  clientSecret: 'client-secret-XYZ',
  grant: { type: 'password', username: 'alice', password: 'user-password-XYZ' },
  retry: false,
}

describe('no secret leaves in text', () => {
  it('a Token shows redacted under inspect and JSON.stringify but its fields stay readable', async () => {
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json({
          access_token: 'access-token-XYZ',
          token_type: 'Bearer',
          expires_in: 60,
          refresh_token: 'refresh-token-XYZ',
          id_token: 'id-token-XYZ',
        }),
      ),
    )
    const token = await createTokenProvider(options).getToken()
    expectNoSecret(printed(token))
    expect(inspect(token)).toMatch(/Token \{ tokenType: 'Bearer'.*accessToken: '\[redacted\]'/)
    expect(token.accessToken).toBe('access-token-XYZ')
    expect(token.refreshToken).toBe('refresh-token-XYZ')
    expect(token.raw.access_token).toBe('access-token-XYZ')
  })

  it('a provider shows no secret', () => {
    const provider = createTokenProvider(options)
    expectNoSecret(printed(provider))
    expect(inspect(provider)).toContain("clientId: 'c'")
  })

  const failures: [string, () => Response | never][] = [
    ['an OAuth error', () => HttpResponse.json({ error: 'invalid_client' }, { status: 401 })],
    [
      'an HTML page',
      () =>
        new HttpResponse('<html>access-token-XYZ</html>', {
          status: 502,
          headers: { 'content-type': 'text/html' },
        }),
    ],
    ['a network error', () => HttpResponse.error()],
    [
      'a bad token response',
      () => HttpResponse.json({ access_token: 'access-token-XYZ', token_type: 'mac' }),
    ],
  ]
  it.each(failures)('errors from %s carry no secret, nor do logs and events', async (_, respond) => {
    server.use(http.post(tokenEndpoint, respond))
    const lines: string[] = []
    const logger: Logger = {
      warn: (m, f) => lines.push(m + JSON.stringify(f)),
      debug: (m, f) => lines.push(m + JSON.stringify(f)),
    }
    const provider = createTokenProvider({ ...options, logger })
    const events: unknown[] = []
    provider.on('token-error', (e) => events.push(e))
    const error = await provider.getToken().catch((e) => e)
    expect(error.code).toMatch(/^ERR_/)
    expectNoSecret(printed(error))
    expectNoSecret(lines.join('\n'))
    expectNoSecret(printed(events))
    expect(lines.length).toBeGreaterThan(0)
  })
})
