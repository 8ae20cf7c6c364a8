import { inspect } from 'node:util'
import { createTokenProvider, StepUpError, type TokenProvider } from '@tokenwell/core'
import type { AdapterOptions } from '@tokenwell/core/adapter'
import { createDpop } from '@tokenwell/core/dpop'
import { withOAuth2 } from '@tokenwell/fetch'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bodyKinds, type Client, expectedBytes, formParts, harnesses } from './support/adapters.js'
import { type Recorder, startRecorder } from './support/recorder.js'
import { type Servers, useServers } from './support/servers.js'

// The adapter contract (DESIGN.md "Adapters: one policy, three clients"), proved for each
// adapter over real loopback HTTP by counting requests at the servers.
describe.each(harnesses)('$name adapter contract', (harness) => {
  const servers = useServers()
  let client: Client
  beforeEach(() => {
    client = harness.create(servers.provider, servers.api.url)
  })
  afterEach(() => client.close())

  /** One request so the client holds a token, then every token is revoked. */
  async function warmThenRevoke() {
    expect((await client.send('GET', '/echo/warm')).status).toBe(200)
    servers.auth.revokeAll()
    servers.auth.stats.reset()
    servers.api.stats.reset()
  }

  it('attaches the bearer token', async () => {
    const { status, data } = await client.send('GET', '/echo/hello?x=1')
    expect(status).toBe(200)
    expect(data).toMatchObject({
      authorized: true,
      clientId: 'demo-client',
      path: '/echo/hello',
      query: { x: '1' },
    })
    expect(servers.api.requests.map((r) => r.authorization)).toEqual([true])
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('after a 401 refreshes once and replays once', async () => {
    await warmThenRevoke()
    const { status, data } = await client.send('GET', '/echo/after-revoke')
    expect(status).toBe(200)
    expect(data).toMatchObject({ authorized: true })
    expect(servers.api.stats.byPath['/echo/after-revoke']).toBe(2)
    expect(servers.api.stats.unauthorized).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('returns a second 401 to the caller: an always-401 endpoint sees each request exactly twice', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => client.send('GET', '/always-401')))
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill(401))
    expect(outcomes[0]?.data).toMatchObject({ error: 'invalid_token' })
    expect(servers.api.stats.byPath['/always-401']).toBe(40)
    // the first token, then one renewal for all twenty stale 401s
    expect(servers.auth.stats.tokenRequests).toBe(2)
  })

  it('refreshes once for concurrent 401s', async () => {
    await warmThenRevoke()
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.send('GET', `/echo/c${i}`)),
    )
    expect(outcomes.every((o) => o.status === 200)).toBe(true)
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.requests).toBe(40)
  })

  it.each(bodyKinds)('keeps the %s body through the replay', async (kind) => {
    await warmThenRevoke()
    const { status, data } = await client.send('POST', '/echo/upload', kind)
    expect(status).toBe(200)
    expect(servers.api.stats.byPath['/echo/upload']).toBe(2)
    const echoed = data as { bodyBase64: string; contentType: string; method: string }
    expect(echoed.method).toBe('POST')
    const bytes = Buffer.from(echoed.bodyBase64, 'base64')
    if (kind === 'FormData') {
      const boundary = /boundary=(\S+)/.exec(echoed.contentType)?.[1]
      expect(boundary).toBeDefined()
      expect(bytes.includes(`--${boundary}`)).toBe(true)
      expect(bytes.includes(`name="name"\r\n\r\n${formParts.name}\r\n`)).toBe(true)
      expect(bytes.includes(formParts.file)).toBe(true)
    } else {
      expect(bytes.equals(expectedBytes(kind))).toBe(true)
    }
  })

  it('does not replay insufficient_scope', async () => {
    const { status } = await client.send('GET', '/insufficient-scope')
    expect(status).toBe(401)
    expect(servers.api.stats.byPath['/insufficient-scope']).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('never sends the token to another origin on a redirect, and keeps it on a same-origin one', async () => {
    const away = await client.send(
      'GET',
      `/redirect?to=${encodeURIComponent(`${servers.other.url}/public/landing`)}`,
    )
    expect(away.status).toBe(200)
    expect(away.data).toMatchObject({ path: '/public/landing', authorized: false })
    expect(servers.other.requests.map((r) => [r.path, r.authorization])).toEqual([['/public/landing', false]])
    const home = await client.send(
      'GET',
      `/redirect?to=${encodeURIComponent(`${servers.api.url}/echo/landed`)}`,
    )
    expect(home).toMatchObject({ status: 200, data: { path: '/echo/landed', authorized: true } })
  })

  it('an abort while the token is on its way ends that request only, unsent; the shared token request goes on', async () => {
    servers.auth.setLatency(150)
    const controller = new AbortController()
    const aborted = client.send('GET', '/echo/aborted', undefined, controller.signal)
    const other = client.send('GET', '/echo/other')
    setTimeout(() => controller.abort(), 20)
    await expect(aborted).rejects.toBeDefined()
    expect((await other).status).toBe(200)
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.byPath['/echo/aborted']).toBeUndefined()
  })

  it('1,000 concurrent requests on a cold client: exactly 1 token request, 0 failures', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => client.send('GET', `/echo/cold/${i}`)),
    )
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([])
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.requests).toBe(1_000)
  })

  it('500 concurrent requests in a 401 storm: exactly 1 new token request, 0 failures, none sent more than twice', async () => {
    await warmThenRevoke()
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, (_, i) => client.send('GET', `/echo/storm/${i}`)),
    )
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([])
    expect(servers.auth.stats.tokenRequests).toBe(1)
    const sends = Object.entries(servers.api.stats.byPath).filter(([path]) => path.startsWith('/echo/storm/'))
    expect(sends).toHaveLength(500)
    expect(Math.max(...sends.map(([, count]) => count))).toBe(2)
  })
})

// Challenges (issue 16): what a resource server asks for beyond a renewed token, row by row, for
// each adapter, counted at the loopback servers: sends per request, token requests and what they asked.
describe.each(harnesses)('$name adapter contract: challenges', (harness) => {
  const servers = useServers()
  const clients: Client[] = []
  let provider: TokenProvider
  const open = (options?: AdapterOptions) => {
    const created = harness.create(provider, servers.api.url, options)
    clients.push(created)
    return created
  }
  beforeEach(() => {
    provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      scope: 'orders:read',
      retry: false,
      failureCooldown: 0,
    })
  })
  afterEach(async () => {
    for (const created of clients.splice(0)) created.close()
    await provider.close()
  })
  /** One request so the client holds its token; counters start after it. */
  async function warm(client: Client) {
    expect((await client.send('GET', '/echo/warm')).status).toBe(200)
    servers.auth.stats.reset()
    servers.api.stats.reset()
  }
  const sends = (path: string) => servers.api.stats.byPath[path] ?? 0
  const tokenParams = () => servers.auth.requests.map((r) => r.params)

  it('stepUp off (the default): a 403 insufficient_scope goes back after 1 send, with no token request', async () => {
    const client = open()
    await warm(client)
    const { status, data } = await client.send('GET', '/step-up/scope?scope=admin')
    expect(status).toBe(403)
    expect(data).toMatchObject({ error: 'insufficient_scope' })
    expect(sends('/step-up/scope')).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(0)
  })

  it('stepUp on: a 403 (or 401) naming a scope is replayed once with a token for the union of scopes', async () => {
    const client = open({ stepUp: true })
    await warm(client)
    const { status, data } = await client.send('GET', '/step-up/scope?scope=admin')
    expect(status).toBe(200)
    expect(data).toMatchObject({ authorized: true, scope: 'admin orders:read' })
    expect(sends('/step-up/scope')).toBe(2)
    expect(tokenParams().map((p) => p.scope)).toEqual(['admin orders:read'])
    // the stepped-up token is cached under its scope: the next request needs no token request;
    // a 401 naming a scope steps up too; other routes keep the configured token
    expect((await client.send('GET', '/step-up/scope?scope=admin&status=401')).status).toBe(200)
    expect(sends('/step-up/scope')).toBe(4)
    expect(await client.send('GET', '/echo/plain')).toMatchObject({ data: { scope: 'orders:read' } })
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('stepUp on: a scope the token already asked for is not stepped up again (1 send)', async () => {
    const client = open({ stepUp: true })
    await warm(client)
    // the mock names a scope the token has: the challenge cannot be met by asking for it again
    servers.api.failNext(1, {
      status: 403,
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="orders:read"' },
    })
    expect((await client.send('GET', '/echo/has-scope')).status).toBe(403)
    expect(sends('/echo/has-scope')).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(0)
  })

  it.each(['base64url', 'base64'])(
    'a claims challenge (%s) is answered with a token asked for with the decoded claims: 2 sends',
    async (encoding) => {
      const client = open()
      await warm(client)
      const query = `claim=acrs&value=c1${encoding === 'base64' ? '&encoding=base64' : ''}`
      const { status, data } = await client.send('GET', `/step-up/claims?${query}`)
      expect(status).toBe(200)
      expect(data).toMatchObject({ authorized: true })
      expect(sends('/step-up/claims')).toBe(2)
      expect(tokenParams()).toHaveLength(1)
      expect(JSON.parse(tokenParams()[0]!.claims!)).toEqual({
        access_token: { acrs: { essential: true, value: 'c1' } },
      })
      expect(tokenParams()[0]!.scope).toBe('orders:read')
    },
  )

  it('a second claims challenge goes back to the caller: 2 sends, 1 token request', async () => {
    const client = open()
    await warm(client)
    const { status, data } = await client.send('GET', '/step-up/claims?claim=acrs&value=c1&always=1')
    expect(status).toBe(401)
    expect(data).toMatchObject({ error: 'insufficient_claims' })
    expect(sends('/step-up/claims')).toBe(2)
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('claimsChallenges: false hands a claims challenge back after 1 send, with no token request', async () => {
    const client = open({ claimsChallenges: false })
    await warm(client)
    expect((await client.send('GET', '/step-up/claims?claim=acrs&value=c1')).status).toBe(401)
    expect(sends('/step-up/claims')).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(0)
  })

  it('with DPoP-bound tokens, a claims challenge and a step-up are each replayed once with a new proof', async () => {
    await provider.close()
    provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      scope: 'orders:read',
      retry: false,
      failureCooldown: 0,
      dpop: createDpop(),
    })
    const client = open({ stepUp: true })
    await warm(client)
    expect((await client.send('GET', '/step-up/claims?claim=acrs&value=c1')).status).toBe(200)
    expect((await client.send('GET', '/step-up/scope?scope=admin')).status).toBe(200)
    expect(sends('/step-up/claims')).toBe(2)
    expect(sends('/step-up/scope')).toBe(2)
    expect(tokenParams().map((p) => [p.scope, p.claims !== undefined])).toEqual([
      ['orders:read', true],
      ['admin orders:read', false],
    ])
    // every send carried a proof the API accepted for its token: the replay's is for the new token
    const sent = servers.api.requests.filter((r) => r.path.startsWith('/step-up/'))
    expect(sent.map((r) => [r.status, r.dpop])).toEqual([
      [401, true],
      [200, true],
      [403, true],
      [200, true],
    ])
    expect(new Set(sent.map((r) => r.tokenId)).size).toBe(3)
  })

  it('RFC 9470 insufficient_user_authentication fails the request with StepUpError: 1 send, 0 token requests', async () => {
    const client = open({ stepUp: true })
    await warm(client)
    const error = await client.send('GET', '/step-up/authentication?acr_values=phr%20phrh&max_age=300').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'ERR_STEP_UP' })
    // got hands every error of a hook over as its RequestError, with the original as `cause`
    const stepUp = harness.name === 'got' ? (error as { cause?: unknown }).cause : error
    expect(stepUp).toBeInstanceOf(StepUpError)
    expect(stepUp).toMatchObject({ code: 'ERR_STEP_UP', status: 401, acrValues: 'phr phrh', maxAge: 300 })
    expect(sends('/step-up/authentication')).toBe(1)
    expect(servers.auth.stats.tokenRequests).toBe(0)
    const token = provider.peekToken()!.accessToken
    expect(printed(error)).not.toContain(token)
  })
})

/** A provider for `auth` (Bearer or DPoP-bound tokens) and every access token it was issued. */
function recordingProvider(auth: Servers['auth'], dpop: boolean) {
  const tokens: string[] = []
  const provider = createTokenProvider({
    tokenEndpoint: auth.tokenEndpoint,
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    retry: false,
    failureCooldown: 0,
    ...(dpop && { dpop: createDpop() }),
    fetch: async (request) => {
      const response = await fetch(request)
      const body = (await response.clone().json()) as { access_token?: string }
      if (body.access_token) tokens.push(body.access_token)
      return response
    },
  })
  return { provider, tokens }
}

/** JSON.stringify, past the cycles a got error has of its own (got's errors cannot be stringified as they are). */
function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    const seen = new WeakSet<object>()
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v !== 'object' || v === null) return v
      if (seen.has(v)) return '[cycle]'
      seen.add(v)
      return v
    })
  }
}

/** Every way an error could show a token: util.inspect at any depth, JSON.stringify, toJSON(), String(). */
function printed(error: unknown): string {
  const plain = (error as { toJSON?: () => unknown })?.toJSON?.()
  return [inspect(error, { depth: Number.POSITIVE_INFINITY }), json(error), json(plain), String(error)].join(
    '\n',
  )
}

// Rule 6 of DESIGN.md, row by row: where a token (and a DPoP proof) may go, for each adapter and
// both token types, counted at a second origin that records every header it receives.
describe.each(harnesses.flatMap((h) => [false, true].map((dpop) => ({ harness: h, dpop }))))(
  '$harness.name adapter contract (DPoP: $dpop): where the token goes',
  ({ harness, dpop }) => {
    const servers = useServers()
    let recorder: Recorder
    let provider: TokenProvider
    let tokens: string[]
    const clients: Client[] = []
    const open = (baseUrl: string, options?: AdapterOptions) => {
      const created = harness.create(provider, baseUrl, options)
      clients.push(created)
      return created
    }
    beforeAll(async () => {
      recorder = await startRecorder()
    })
    afterAll(() => recorder.close())
    beforeEach(() => {
      recorder.requests.length = 0
      ;({ provider, tokens } = recordingProvider(servers.auth, dpop))
    })
    afterEach(async () => {
      for (const created of clients.splice(0)) created.close()
      await provider.close()
    })
    /** No issued token, in any header, reached the second origin; nor did a proof. */
    const nothingAtRecorder = () => {
      for (const token of tokens) expect(recorder.text()).not.toContain(token)
      expect(recorder.requests.filter((r) => r.dpop !== undefined)).toEqual([])
    }

    it('sends nothing to another origin named by an absolute URL with an empty per-request base URL', async () => {
      const client = open(servers.api.url)
      expect((await client.attempt({ target: '/echo/warm' })).status).toBe(200)
      const away = await client.attempt({ target: `${recorder.url}/presigned?sig=1`, emptyBase: true })
      expect(away.status).toBe(200)
      expect(recorder.requests.map((r) => [r.path, r.authorization])).toEqual([['/presigned', undefined]])
      nothingAtRecorder()
    })

    it('never puts the token or a proof back on a redirect chain that left the origin (A → B → A)', async () => {
      const client = open(servers.api.url)
      const back = `${servers.api.url}/echo/back`
      const chain = `/redirect?to=${encodeURIComponent(`${recorder.url}/bounce?to=${encodeURIComponent(back)}`)}`
      const { status } = await client.attempt({ target: chain })
      expect(status).toBe(401) // A's protected route, reached without a token
      expect(recorder.requests.map((r) => r.path).every((p) => p === '/bounce')).toBe(true)
      nothingAtRecorder()
      const home = servers.api.requests.filter((r) => r.path === '/echo/back')
      expect(home.length).toBeGreaterThan(0)
      expect(home.map((r) => [r.authorization, r.dpop])).toEqual(home.map(() => [false, false]))
      // its 401 answered no token: no renewal, no replay of the chain
      expect(servers.api.stats.byPath['/redirect']).toBe(1)
      expect(servers.auth.stats.tokenRequests).toBe(1)
    })

    it('gives nothing to a request with the caller’s own credentials: a header, client Basic auth, userinfo', async () => {
      const client = open(recorder.url)
      const own = 'Basic Y2FsbGVyOnB3'
      await client.attempt({ target: '/own-header', headers: { Authorization: own } })
      await client.attempt({ target: '/client-auth', basicAuth: { username: 'caller', password: 'pw' } })
      const userinfo = new URL(recorder.url)
      userinfo.username = 'caller'
      userinfo.password = 'pw'
      // undici.request drops userinfo before any dispatcher sees it (and sends no credentials)
      if (harness.name !== 'undici')
        await client.attempt({ target: `${userinfo.origin.replace('//', '//caller:pw@')}/userinfo` })
      expect(servers.auth.stats.tokenRequests).toBe(0)
      // fetch (and ky, on fetch) refuses a URL with credentials (nothing is sent); axios and got send them as Basic
      const sendsUserinfo = harness.name === 'axios' || harness.name === 'got'
      expect(recorder.requests.map((r) => [r.path, r.authorization])).toEqual(
        [
          ['/own-header', own],
          ['/client-auth', own],
          ['/userinfo', own],
        ].filter(([path]) => sendsUserinfo || path !== '/userinfo'),
      )
      nothingAtRecorder()
      // the control: the same client without credentials of its own gets the token (and a proof)
      await client.attempt({ target: '/plain' })
      const plain = recorder.requests.at(-1)!
      expect(plain.authorization).toBe(`${dpop ? 'DPoP' : 'Bearer'} ${tokens[0]}`)
      expect(plain.dpop !== undefined).toBe(dpop)
    })

    it('tests a RegExp match against the origin: a query string naming the API cannot fool it', async () => {
      const apiHost = new URL(servers.api.url).host.replace(/\./g, '\\.')
      const client = open(recorder.url, { match: new RegExp(apiHost) })
      await client.attempt({ target: `${recorder.url}/x?next=${encodeURIComponent(servers.api.url)}/` })
      await client.attempt({ target: `${recorder.url}/${new URL(servers.api.url).host}/path` })
      expect(recorder.requests.map((r) => r.authorization)).toEqual([undefined, undefined])
      nothingAtRecorder()
      expect((await client.attempt({ target: `${servers.api.url}/echo/matched` })).status).toBe(200)
    })

    it('works with globalThis.fetch = withOAuth2(provider): the token requests skip the wrapper', async () => {
      const original = globalThis.fetch
      globalThis.fetch = withOAuth2(provider, { match: servers.api.url })
      try {
        const viaGlobal = await globalThis.fetch(`${servers.api.url}/echo/global`)
        expect(await viaGlobal.json()).toMatchObject({ authorized: true })
        const client = open(servers.api.url)
        expect((await client.attempt({ target: '/echo/adapter' })).status).toBe(200)
        expect(servers.auth.stats.tokenRequests).toBe(1)
      } finally {
        globalThis.fetch = original
      }
    })

    it('hands back client errors without any token: a 500, a second 401, a refused connection', async () => {
      const client = open(servers.api.url)
      servers.api.failNext(1, { status: 500, body: 'boom' })
      const errors = [
        await client.attempt({ target: '/echo/fails', httpErrors: true }),
        await client.attempt({ target: '/always-401', httpErrors: true }),
      ]
      const closed = await startRecorder()
      await closed.close() // a loopback port nobody listens on
      const refused = open(closed.url)
      errors.push(await refused.attempt({ target: '/x', httpErrors: true }))
      expect(tokens.length).toBeGreaterThanOrEqual(2)
      const failures = errors.filter((e) => e.error !== undefined)
      // fetch answers HTTP errors as responses; only its refused connection is an error
      expect(failures.length).toBe(harness.name === 'fetch' ? 1 : 3)
      for (const { error } of failures)
        for (const token of tokens) expect(printed(error)).not.toContain(token)
    })
  },
)
