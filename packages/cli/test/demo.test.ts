import { server } from '@tokenwell/mock-server/msw'
import { http, passthrough } from 'msw'
import { beforeEach, describe, expect, it } from 'vitest'
import type { DemoClient } from '../src/demo-clients.js'
import { runDemoCommand } from '../src/demo-command.js'
import { runDemo } from '../src/index.js'
import { memoryIo } from './memory-io.js'

// the demo talks to its own servers on 127.0.0.1: let that traffic through msw, and only that
beforeEach(() => {
  server.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()))
})

// real servers and 225+ requests per run: room for a busy CI machine
describe('runDemo', { timeout: 30_000 }, () => {
  it('runs axios, got, fetch, undici and ky through the three scenarios, each check counted at the servers', async () => {
    const { io, stdout, stderr } = memoryIo()
    const report = await runDemo(io, { calls: 25 })
    expect(report.ok).toBe(true)
    expect(report.results.map((r) => `${r.client} ${r.scenario}`)).toEqual(
      ['axios', 'got', 'fetch', 'undici', 'ky'].flatMap((c) => [
        `${c} cold cache`,
        `${c} token expired`,
        `${c} 401 storm`,
      ]),
    )
    for (const result of report.results) {
      expect(result).toMatchObject({ calls: 25, ok: 25, tokenRequests: 1, failures: [] })
      if (result.scenario === '401 storm') {
        expect(result.unauthorized).toBeGreaterThan(0)
        expect(result.apiRequests).toBe(25 + result.unauthorized)
      } else {
        expect(result).toMatchObject({ unauthorized: 0, apiRequests: 25 })
      }
    }
    const text = stdout()
    expect(text).toMatch(
      /^tokenwell demo: axios, got, fetch, undici and ky against a real OAuth 2\.0 server on 127\.0\.0\.1\n/,
    )
    expect(text).toMatch(/\naxios: oauth2Interceptor\(axios\.create\(\{ baseURL \}\), provider\)\n/)
    expect(text).toMatch(
      / ✓ 401 storm +all tokens revoked, 25 calls +25\/25 OK, \d+ × 401 replayed +1 token request /,
    )
    expect(text).toMatch(
      /\n✓ all 15 checks passed: 375 calls, \d+ × 401 recovered, 15 token requests in [\d.]+m?s\n$/,
    )
    expect(stderr()).toBe('') // not a terminal: no progress line
  })

  it('reports what failed when a client has no 401 recovery, and is not ok', async () => {
    // a token fetched by hand and never replayed: fine until the token is revoked
    const byHand: DemoClient = {
      name: 'by-hand',
      adapter: 'fetch with a token from getToken()',
      create: (provider, apiUrl) => async (path) => {
        const token = await provider.getToken()
        const response = await fetch(`${apiUrl}${path}`, {
          headers: { authorization: `Bearer ${token.accessToken}` },
        })
        await response.arrayBuffer()
        return response.status
      },
    }
    const { io, stdout } = memoryIo()
    const report = await runDemo(io, { calls: 10, clients: [byHand] })
    expect(report.ok).toBe(false)
    expect(report.results.map((r) => r.failures.length > 0)).toEqual([false, false, true])
    expect(report.results[2]?.failures).toEqual([
      '10 of 10 calls did not end in 200 OK',
      'expected 1 token request, saw 0',
      'expected one replay per 401: 10 API requests for 10 calls and 10 401s',
    ])
    expect(stdout()).toContain('  ✗ 401 storm ')
    expect(stdout()).toContain('      ✗ 10 of 10 calls did not end in 200 OK\n')
    expect(stdout()).toMatch(/\n✗ 1 of 3 checks failed: /)
  })

  it('draws a progress line on a terminal, and clears it', async () => {
    const { io, stderr } = memoryIo()
    const report = await runDemo(
      { ...io, stderr: { write: io.stderr.write, isTTY: true } },
      { calls: 2, clients: [] },
    )
    expect(report.ok).toBe(true)
    expect(stderr()).toContain('\r\x1b[Kstarting the authorization server and the API')
    expect(stderr().endsWith('\r\x1b[K')).toBe(true)
  })
})

describe('tokenwell demo', () => {
  it('exits 1 when a check fails, 0 when all hold', async () => {
    const failing = async () => ({ ok: false, results: [], durationMs: 0 })
    const passing = async () => ({ ok: true, results: [], durationMs: 0 })
    expect(await runDemoCommand([], memoryIo().io, failing)).toBe(1)
    expect(await runDemoCommand([], memoryIo().io, passing)).toBe(0)
  })

  it('passes --calls to the demo', async () => {
    let calls: number | undefined
    await runDemoCommand(['--calls', '7'], memoryIo().io, async (_io, options) => {
      calls = options?.calls
      return { ok: true, results: [], durationMs: 0 }
    })
    expect(calls).toBe(7)
  })
})
