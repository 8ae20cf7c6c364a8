import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { oauth2Interceptor } from '@tokenwell/axios'
import { createTokenProvider, type TokenEventName } from '@tokenwell/core'
import { oauth2Hooks } from '@tokenwell/got'
import axios, { type AxiosRequestConfig } from 'axios'
import got from 'got'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeBundle, runCli } from '../packages/cli/test/subprocess.js'

// Rule 5 with echoes the other hostile tests do not make: a long (JWT-sized) secret in base64, a
// secret in hex, the token as a JSON key. Counted by 12-character pieces, as the scrubber works.
const PIECE = 12
const EVENTS: TokenEventName[] = ['token', 'token-error', 'refresh-failed', 'invalidated', 'store-error']
const b64 = (v: string) => Buffer.from(v).toString('base64')

/** The 12-character pieces of `form` that `text` holds. */
function pieces(text: string, form: string): number {
  let found = 0
  for (let i = 0; i + PIECE <= form.length; i++) if (text.includes(form.slice(i, i + PIECE))) found++
  return found
}

/** The 12-byte pieces of `secret` that `text` holds as `util.inspect` prints bytes (hex) or `JSON.stringify` does (decimals). */
function bytePieces(text: string, secret: string): number {
  const bytes = [...Buffer.from(secret)]
  let found = 0
  for (let i = 0; i + PIECE <= bytes.length; i++) {
    const piece = bytes.slice(i, i + PIECE)
    const hex = piece.map((byte) => byte.toString(16).padStart(2, '0')).join(' ')
    if (text.includes(hex) || text.includes(piece.join(','))) found++
  }
  return found
}

function printed(error: unknown): string {
  const chain: unknown[] = []
  for (let e: unknown = error; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e)
  const plain = (error as { toJSON?: () => unknown })?.toJSON?.()
  return [
    inspect(error, { depth: Number.POSITIVE_INFINITY, maxArrayLength: Number.POSITIVE_INFINITY }),
    JSON.stringify(error),
    JSON.stringify(plain),
    ...chain.flatMap((e) => [String(e), (e as Error).message, (e as Error).stack ?? '']),
  ].join('\n')
}

/** A secret as long as a signed JWT access or refresh token (the mock server's are ~500). */
const longSecret = (tag: string) =>
  `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(`{"sub":"alice","tag":"${tag}","pad":"${'x'.repeat(300)}"}`).toString('base64url')}.c2lnbmF0dXJl`

describe('a token endpoint echoing secrets in forms the scrubber may not know', () => {
  let server: Server
  let url: string
  let answer: (
    body: URLSearchParams,
    auth: string,
  ) => { status: number; headers: Record<string, string>; body: string }
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = ''
      req.on('data', (chunk: Buffer) => {
        raw += chunk.toString()
      })
      req.on('end', () => {
        const out = answer(new URLSearchParams(raw), String(req.headers.authorization ?? ''))
        res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers }).end(out.body)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`
  })
  afterAll(async () => {
    removeBundle()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  async function failWith(options: { clientSecret: string; refreshToken: string }) {
    const lines: string[] = []
    const provider = createTokenProvider({
      tokenEndpoint: url,
      clientId: 'svc',
      clientSecret: options.clientSecret,
      grant: { type: 'refresh_token', refreshToken: options.refreshToken },
      retry: false,
      failureCooldown: 0,
      logger: {
        debug: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
        warn: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
      },
    })
    const events: unknown[] = []
    for (const name of EVENTS) provider.on(name, (event) => events.push(event))
    const error = await provider.getToken().then(
      () => undefined,
      (e: unknown) => e,
    )
    await provider.close()
    expect(error).toBeInstanceOf(Error)
    return [printed(error), inspect(events, { depth: Number.POSITIVE_INFINITY }), ...lines].join('\n')
  }

  it('a JWT-sized refresh token echoed base64-encoded in error_description: 0 pieces of it printed', async () => {
    const refreshToken = longSecret('rt')
    answer = (body) => ({
      status: 400,
      headers: {},
      body: JSON.stringify({
        error: 'invalid_grant',
        error_description: `refresh token not valid: ${b64(body.get('refresh_token') ?? '')}`,
      }),
    })
    const text = await failWith({ clientSecret: 'client-secret-0123456789', refreshToken })
    expect(pieces(text, b64(refreshToken))).toBe(0)
  })

  // each chunk shorter than a piece: the separators dropped, the chunks make the secret again
  it.each([
    ['10', ' | '],
    ['11', '", "'],
    ['6', ' '],
    ['8', ' / '],
  ])(
    'the client secret echoed in %s-character chunks joined by %j: 0 pieces of it once the separators are dropped',
    async (size, separator) => {
      const clientSecret = 'Zq8sPq2LmV4nR7tY1wK3xJ5h'
      answer = (_body, auth) => {
        const secret =
          Buffer.from(auth.replace(/^Basic /, ''), 'base64')
            .toString()
            .split(':')[1] ?? ''
        const chunks = secret.match(new RegExp(`.{1,${size}}`, 'g')) ?? []
        return {
          status: 401,
          headers: { 'www-authenticate': `Basic error_description="${chunks.join(' ')}"` },
          body: JSON.stringify({
            error: 'invalid_client',
            error_description: `bad: ${chunks.join(separator)}`,
          }),
        }
      }
      const text = await failWith({ clientSecret, refreshToken: 'refresh-token-0123456789' })
      expect(pieces(text.replace(/[^A-Za-z0-9]/g, ''), clientSecret)).toBe(0)
    },
  )

  it('the Basic header echoed base64-encoded (so the client secret twice over): 0 pieces of it printed', async () => {
    const clientSecret = 'Zq8sPq2LmV4nR7tY1wK3'
    answer = (_body, auth) => ({
      status: 401,
      headers: {},
      body: JSON.stringify({
        error: 'invalid_client',
        error_description: `request: ${b64(`authorization: ${auth}`)}`,
      }),
    })
    const text = await failWith({ clientSecret, refreshToken: 'refresh-token-0123456789' })
    expect(text).toContain('invalid_client')
    expect(pieces(text, b64(`authorization: Basic ${b64(`svc:${clientSecret}`)}`).slice(8, -8))).toBe(0)
  })

  it('the client secret echoed HTML-escaped by the OWASP rule in an error page: 0 pieces of it printed', async () => {
    const clientSecret = 'Zq8s/Pq2L&mV4n/R7tY1wK3'
    const entities = (v: string) =>
      v.replace(/[&<>"'/]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`)
    answer = (_body, auth) => {
      const basic = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()
      const secret = decodeURIComponent(basic.split(':')[1] ?? '')
      return {
        status: 401,
        headers: {},
        body: JSON.stringify({
          error: 'invalid_client',
          error_description: `<p>secret ${entities(secret)} rejected</p>`,
        }),
      }
    }
    const text = await failWith({ clientSecret, refreshToken: 'refresh-token-0123456789' })
    expect(text).toContain('invalid_client')
    expect(pieces(text, entities(clientSecret))).toBe(0)
  })

  it('the client secret echoed in hex in error_description: 0 pieces of it printed', async () => {
    const clientSecret = 'Zq8sPq2LmV4nR7tY1wK3'
    answer = (_body, auth) => {
      const secret =
        Buffer.from(auth.replace(/^Basic /, ''), 'base64')
          .toString()
          .split(':')[1] ?? ''
      return {
        status: 401,
        headers: {},
        body: JSON.stringify({
          error: 'invalid_client',
          error_description: `client secret bytes: ${Buffer.from(secret).toString('hex')}`,
        }),
      }
    }
    const text = await failWith({ clientSecret, refreshToken: 'refresh-token-0123456789' })
    expect(pieces(text, Buffer.from(clientSecret).toString('hex'))).toBe(0)
  })

  it('tokenwell token: the client secret echoed in hex in error_description: 0 pieces of it on stdout or stderr', async () => {
    const clientSecret = 'Zq8sPq2LmV4nR7tY1wK3'
    answer = (body) => ({
      status: 401,
      headers: {},
      body: JSON.stringify({
        error: 'invalid_client',
        error_description: `client secret bytes: ${Buffer.from(body.get('client_secret') ?? '').toString('hex')}`,
      }),
    })
    const result = await runCli(
      [
        'token',
        '--token-endpoint',
        url,
        '--client-id',
        'svc',
        '--client-secret-env',
        'SECRET',
        '--client-auth',
        'client_secret_post',
      ],
      { env: { SECRET: clientSecret } },
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('invalid_client')
    expect(pieces(`${result.stdout}${result.stderr}`, Buffer.from(clientSecret).toString('hex'))).toBe(0)
  }, 60_000)
})

describe('an API echoing the access token where the adapters’ scrubber may not reach', () => {
  let server: Server
  let baseUrl: string
  let answer: (
    token: string,
    path: string,
  ) => { headers: Record<string, string>; body: string; status?: number }
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '')
      const out = answer(token, req.url ?? '/')
      res.writeHead(out.status ?? 500, { 'content-type': 'application/json', ...out.headers }).end(out.body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const providerOf = (accessToken: string) =>
    createTokenProvider({
      tokenEndpoint: 'http://127.0.0.1:1/token',
      clientId: 'c',
      clientSecret: 's',
      fetch: async () => Response.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 300 }),
    })

  async function axiosError(accessToken: string, config: AxiosRequestConfig = {}): Promise<unknown> {
    const provider = providerOf(accessToken)
    const instance = axios.create({ baseURL: baseUrl })
    oauth2Interceptor(instance, provider)
    const error = await instance.get('/x', config).then(
      () => undefined,
      (e: unknown) => e,
    )
    await provider.close()
    expect(error).toBeInstanceOf(Error)
    return error
  }

  async function gotError(accessToken: string): Promise<unknown> {
    const provider = providerOf(accessToken)
    const client = got.extend(oauth2Hooks(provider), { prefixUrl: baseUrl, retry: { limit: 0 } })
    const error = await client('x', { responseType: 'json' }).then(
      () => undefined,
      (e: unknown) => e,
    )
    await provider.close()
    expect(error).toBeInstanceOf(Error)
    return error
  }

  it('axios: a JWT-sized access token echoed base64-encoded in a 500 body: 0 pieces printed', async () => {
    const token = longSecret('at')
    answer = (sent) => ({ headers: {}, body: JSON.stringify({ error: 'boom', seen: b64(sent) }) })
    const text = printed(await axiosError(token))
    expect(pieces(text, b64(token))).toBe(0)
  })

  it('axios: the token echoed as a JSON object key of a 500 body: 0 pieces printed', async () => {
    const token = 'tok-0123456789-abcdefghij-SECRET'
    answer = (sent) => ({ headers: {}, body: JSON.stringify({ rejected: { [sent]: true } }) })
    const text = printed(await axiosError(token))
    expect(pieces(text, token)).toBe(0)
  })

  it.each<AxiosRequestConfig>([
    { responseType: 'arraybuffer' },
    { responseType: 'stream' },
    { responseType: 'arraybuffer', adapter: 'fetch' },
  ])(
    'axios: a 500 body read as bytes ($responseType, adapter $adapter) that echoes the token: 0 pieces of it printed, in hex (inspect) or as bytes (JSON)',
    async (config) => {
      const token = 'tok-0123456789-abcdefghij-SECRET'
      answer = (sent) => ({ headers: {}, body: JSON.stringify({ error: 'boom', seen: sent }) })
      const error = await axiosError(token, config)
      const text = [
        printed(error),
        inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      ].join('\n')
      expect(bytePieces(text, token)).toBe(0)
      expect(pieces(text, token)).toBe(0)
    },
  )

  it('axios’s fetch adapter: a redirect whose Location echoes the token, to a 500: 0 pieces of it printed (the Request’s URL)', async () => {
    const token = 'tok-0123456789-abcdefghij-SECRET'
    answer = (sent, path) =>
      path === '/x'
        ? { status: 302, headers: { location: `/landing?t=${encodeURIComponent(sent)}` }, body: '' }
        : { headers: {}, body: '{}' }
    const text = printed(await axiosError(token, { adapter: 'fetch' }))
    expect(pieces(text, token)).toBe(0)
  })

  it('got: the token echoed as a JSON object key of a 500 body: not in error.response.body', async () => {
    const token = 'tok-0123456789-abcdefghij-SECRET'
    answer = (sent) => ({ headers: {}, body: JSON.stringify({ rejected: { [sent]: true } }) })
    const error = (await gotError(token)) as { response?: { body?: unknown } }
    expect(pieces(inspect(error.response?.body, { depth: Number.POSITIVE_INFINITY }), token)).toBe(0)
  })
})
