import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { createTokenProvider, type Logger, type TokenEventName } from '@tokenwell/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Rule 5 over real HTTP (Node's fetch, not an injected one): a token endpoint that echoes the
// request where an injected Response cannot show it: a compressed body, a Set-Cookie, a
// Location on a redirect, the reason phrase, and a header with the secret's UTF-8 bytes as is
// (which fetch reads as Latin-1).
const PIECE = 12
type Mode = 'gzip' | 'br' | 'cookie' | 'location' | 'reason' | 'utf8-header' | 'www-authenticate'
const MODES: Mode[] = ['gzip', 'br', 'cookie', 'location', 'reason', 'utf8-header', 'www-authenticate']
const EVENTS: TokenEventName[] = ['token', 'token-error', 'refresh-failed', 'invalidated', 'store-error']

const form = (v: string) => new URLSearchParams({ v }).toString().slice(2)
const b64 = (v: string) => Buffer.from(v).toString('base64')
/** The secret's UTF-8 bytes read as Latin-1: what fetch makes of a header that carries them as is. */
const latin1 = (v: string) => Buffer.from(v).toString('latin1')
const formsOf = (s: string) => [
  s,
  form(s),
  encodeURIComponent(s),
  JSON.stringify(s).slice(1, -1),
  b64(s),
  latin1(s),
]

function count(text: string, secrets: string[]): string[] {
  const found = new Set<string>()
  for (const f of secrets.flatMap(formsOf))
    for (let i = 0; i + PIECE <= f.length; i++)
      if (text.includes(f.slice(i, i + PIECE))) found.add(f.slice(i, i + PIECE))
  return [...found]
}

const UNITS = [
  ...'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789',
  ...' +%&=:;"\'\\/<>?#éü€😀~-._',
]
const secretArb = fc.string({ unit: fc.constantFrom(...UNITS), minLength: 12, maxLength: 40 })

describe('a token endpoint over HTTP that echoes the request outside its JSON error', () => {
  let server: Server
  let url: string
  let mode: Mode = 'gzip'
  let hits = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      req.on('end', () => {
        hits++
        const auth = String(req.headers.authorization ?? '')
        const password = new URLSearchParams(body).get('password') ?? ''
        const echo = `${auth} ${body} ${password}`
        const json = JSON.stringify({ error: 'invalid_client', error_description: `bad ${echo}` })
        switch (mode) {
          case 'gzip':
          case 'br':
            res.writeHead(401, { 'content-type': 'application/json', 'content-encoding': mode })
            res.end(mode === 'gzip' ? gzipSync(json) : brotliCompressSync(json))
            return
          case 'cookie':
            res.writeHead(503, [
              ['content-type', 'text/plain'],
              ['set-cookie', `last=${encodeURIComponent(password)}; Path=/`],
              ['set-cookie', `auth=${b64(auth)}`],
            ])
            res.end('unavailable')
            return
          case 'location':
            res.writeHead(302, {
              location: `https://as.test/login?${body}&p=${encodeURIComponent(password)}`,
            })
            res.end()
            return
          case 'reason':
            res.writeHead(503, `Bad ${form(password)} ${auth}`, { 'content-type': 'text/plain' })
            res.end()
            return
          case 'utf8-header':
            res.writeHead(503, { 'content-type': 'text/plain', 'x-password': latin1(password) })
            res.end()
            return
          case 'www-authenticate':
            res.writeHead(401, {
              'content-type': 'application/json',
              'www-authenticate': `Basic realm="as", error_description="${auth} ${form(password)}"`,
            })
            res.end('{"error":"invalid_client"}')
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('0 pieces of the client secret, the password or the Basic credentials in any channel', async () => {
    const scrubbed = new Set<Mode>()
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(secretArb, { minLength: 2, maxLength: 2 }),
        fc.constantFrom(...MODES),
        async ([clientSecret, password], m) => {
          mode = m
          hits = 0
          const lines: string[] = []
          const logger: Logger = {
            debug: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
            warn: (msg, fields) => lines.push(JSON.stringify({ msg, ...fields })),
          }
          const provider = createTokenProvider({
            tokenEndpoint: url,
            clientId: 'svc',
            clientSecret: clientSecret as string,
            grant: { type: 'password', username: 'alice', password: password as string },
            retry: false,
            logger,
          })
          const events: unknown[] = []
          for (const name of EVENTS) provider.on(name, (event) => events.push(event))
          const error = await provider.getToken().then(
            () => undefined,
            (e: unknown) => e,
          )
          await provider.close()
          expect(hits).toBe(1)
          expect(error).toBeInstanceOf(Error)
          const chain: Error[] = []
          for (let e: unknown = error; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e)
          const response = (error as { response?: Response }).response
          const text = [
            inspect(error, { depth: Number.POSITIVE_INFINITY }),
            JSON.stringify(error),
            ...chain.flatMap((e) => [String(e), e.message, e.stack ?? '']),
            inspect(response, { depth: Number.POSITIVE_INFINITY }),
            ...[...(response?.headers ?? [])].flat(),
            response?.statusText ?? '',
            ...events.map((e) => inspect(e, { depth: Number.POSITIVE_INFINITY })),
            ...lines,
          ].join('\n')
          const basic = b64(`svc:${clientSecret}`)
          const basicForm = b64(`${form('svc')}:${form(clientSecret as string)}`)
          expect(count(text, [clientSecret as string, password as string, basic, basicForm]), m).toEqual([])
          if (text.includes('[REDACTED]')) scrubbed.add(m)
        },
      ),
      { numRuns: 140 },
    )
    // the echoes arrived: each way of echoing had something scrubbed
    expect([...scrubbed].sort()).toEqual([...MODES].sort())
  }, 60_000)
})
