import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bodyKinds, type Client, expectedBytes, formParts, harnesses } from './support/adapters.js'
import { useServers } from './support/servers.js'

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
