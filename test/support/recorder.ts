import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  ConfigError,
  createTokenProvider,
  type TokenProvider,
  type TokenProviderOptions,
} from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'

/** What the second origin received: every request, with the headers that could carry a credential. */
export interface Recorded {
  method: string
  path: string
  authorization: string | undefined
  dpop: string | undefined
  /** Every header value, to search for a token whatever header it came in. */
  headers: IncomingHttpHeaders
}

export interface Recorder {
  readonly url: string
  readonly requests: Recorded[]
  /** Every received header value joined: a token anywhere in it is a leak. */
  text(): string
  close(): Promise<void>
}

/**
 * A second loopback origin that records what it receives and answers 200 JSON; `/bounce?to=URL[&status=N]`
 * redirects (302 by default), so a chain can leave an API and come back to it.
 */
export async function startRecorder(): Promise<Recorder> {
  const requests: Recorded[] = []
  const server = createServer((req, res) => {
    req.resume()
    const url = new URL(`http://recorder${req.url ?? '/'}`) // a path may start with //
    const { authorization, dpop } = req.headers
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      authorization,
      dpop: typeof dpop === 'string' ? dpop : undefined,
      headers: req.headers,
    })
    const to = url.searchParams.get('to')
    if (url.pathname === '/bounce' && to) {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: url.pathname }))
  })
  server.keepAliveTimeout = 100
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    text: () => JSON.stringify(requests.map((r) => r.headers)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A provider whose token endpoint always answers `token` (300 s; DPoP with `extra.dpop`), no retries; `extra` options on top. */
export function fixedTokenProvider(
  token = 'tok-SECRET',
  extra: Partial<TokenProviderOptions> = {},
): TokenProvider {
  return answering(() => token, false, { retry: false, ...extra })
}

/**
 * A provider whose token endpoint answers `tok-<n>-SECRET` (n: one more than `tokens` holds), each pushed
 * onto `tokens` (to count them wherever they turn up), DPoP-bound with `dpop`; `extra` options on top.
 */
export function issuingProvider(
  tokens: string[],
  dpop = false,
  extra: Partial<TokenProviderOptions> = {},
): TokenProvider {
  return answering(() => tokens[tokens.push(`tok-${tokens.length + 1}-SECRET`) - 1]!, dpop, extra)
}

/** A provider whose token endpoint (never reached: its `fetch` answers) issues `next()` for 300 s. */
function answering(next: () => string, dpop: boolean, extra: Partial<TokenProviderOptions>): TokenProvider {
  return createTokenProvider({
    tokenEndpoint: 'http://127.0.0.1:1/token',
    clientId: 'c',
    clientSecret: 's',
    ...(dpop && { dpop: createDpop() }),
    ...extra,
    fetch: async () =>
      Response.json({
        access_token: next(),
        token_type: dpop || extra.dpop ? 'DPoP' : 'Bearer',
        expires_in: 300,
      }),
  } as TokenProviderOptions)
}

/**
 * What a call ended in: `'sent'`, or, when fetch refused it with a `TypeError` whose cause is the
 * `ConfigError` of a connection check, that error's text (else `false`).
 */
export const refusal = (call: Promise<unknown>): Promise<string | false> =>
  call.then(
    () => 'sent',
    (e: unknown) => e instanceof TypeError && e.cause instanceof ConfigError && String(e.cause),
  )
