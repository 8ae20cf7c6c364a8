import { randomUUID } from 'node:crypto'
import { createTokenProvider } from '@tokenwell/core'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import type { CliIo } from './cli-io.js'
import { DEMO_CLIENTS, type DemoClient, type DemoGet } from './demo-clients.js'
import { formatScenario, formatSummary, type ScenarioResult } from './demo-report.js'
import { formatDuration } from './duration.js'

export interface DemoOptions {
  /** Concurrent calls in each scenario. @default 200 */
  calls?: number | undefined
  /** The clients to run. @default axios, got, fetch, undici and ky through their adapters */
  clients?: readonly DemoClient[] | undefined
}

/** What the demo saw; `ok` when every check held. */
export interface DemoReport {
  readonly ok: boolean
  readonly results: readonly ScenarioResult[]
  readonly durationMs: number
}

/** Access-token lifetime at the mock server, seconds (its `expires_in`). */
const TOKEN_LIFETIME = 300
const count = (n: number) => n.toLocaleString('en-US')

/** A clock the demo moves forward, shared by the server and the providers: expiry without waiting. */
function createDemoClock() {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms
    },
  }
}

interface Context {
  auth: RunningMockAuthServer
  clock: ReturnType<typeof createDemoClock>
}

interface Scenario {
  readonly name: string
  setup(calls: number): string
  /** What happens just before the burst of calls. */
  prepare(context: Context): void
  /** Whether the API should answer 401s that the adapter recovers from. */
  readonly expect401: boolean
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'cold cache', setup: (n) => `${count(n)} concurrent calls`, prepare: () => {}, expect401: false },
  {
    name: 'token expired',
    setup: (n) => `clock +${formatDuration(TOKEN_LIFETIME * 1_000)}, ${count(n)} calls`,
    prepare: ({ clock }) => clock.advance((TOKEN_LIFETIME + 1) * 1_000),
    expect401: false,
  },
  {
    name: '401 storm',
    setup: (n) => `all tokens revoked, ${count(n)} calls`,
    prepare: ({ auth }) => auth.revokeAll(),
    expect401: true,
  },
]

/**
 * The demo: starts the mock authorization server and a protected API on 127.0.0.1, then for
 * each client runs a burst of concurrent calls on a cold cache, a burst after the token
 * expired, and a burst after every token was revoked (a 401 storm), counting at the servers
 * what happened. Prints the report on `io.stdout` (progress on a terminal's stderr). Takes a
 * few seconds: expiry is a jump of the clock the server and the providers share, not a wait.
 *
 * @example
 * const report = await runDemo(processIo())
 * process.exitCode = report.ok ? 0 : 1
 */
export async function runDemo(io: CliIo, options: DemoOptions = {}): Promise<DemoReport> {
  const calls = options.calls ?? 200
  const clients = options.clients ?? DEMO_CLIENTS
  const started = performance.now()
  const progress = progressLine(io)
  const clock = createDemoClock()
  const clientSecret = randomUUID()
  progress('starting the authorization server and the API')
  const auth = await startMockAuthServer({
    clients: [{ clientId: 'demo-client', clientSecret }],
    tokenLifetime: TOKEN_LIFETIME,
    clock: clock.now,
  })
  const results: ScenarioResult[] = []
  try {
    const api = await startProtectedApi({ authServer: auth })
    try {
      progress('')
      io.stdout.write(
        `tokenwell demo: ${listOf(clients.map((c) => c.name))} against a real OAuth 2.0 server on 127.0.0.1\n` +
          `  token endpoint ${auth.tokenEndpoint}, API ${api.url}, tokens live ` +
          `${formatDuration(TOKEN_LIFETIME * 1_000)} (the clock is moved, not waited for)\n`,
      )
      for (const client of clients) {
        io.stdout.write(`\n${client.name}: ${client.adapter}\n`)
        const provider = createTokenProvider({
          tokenEndpoint: auth.tokenEndpoint,
          clientId: 'demo-client',
          clientSecret,
          clock: clock.now,
        })
        const get = client.create(provider, api.url)
        for (const scenario of SCENARIOS) {
          progress(`${client.name}: ${scenario.name}…`)
          scenario.prepare({ auth, clock })
          const result = await runScenario(client.name, scenario, get, calls, auth, api)
          progress('')
          io.stdout.write(`${formatScenario(result)}\n`)
          results.push(result)
        }
        await provider.close()
      }
    } finally {
      await api.close()
    }
  } finally {
    progress('')
    await auth.close()
  }
  const durationMs = performance.now() - started
  io.stdout.write(`\n${formatSummary(results, durationMs)}\n`)
  return { ok: results.every((r) => r.failures.length === 0), results, durationMs }
}

async function runScenario(
  client: string,
  scenario: Scenario,
  get: DemoGet,
  calls: number,
  auth: RunningMockAuthServer,
  api: RunningProtectedApi,
): Promise<ScenarioResult> {
  const before = {
    token: auth.stats.tokenRequests,
    api: api.stats.requests,
    unauthorized: api.stats.unauthorized,
  }
  const started = performance.now()
  const statuses = await Promise.all(Array.from({ length: calls }, () => get('/echo').catch(() => 0)))
  const durationMs = performance.now() - started
  const ok = statuses.filter((status) => status === 200).length
  const tokenRequests = auth.stats.tokenRequests - before.token
  const apiRequests = api.stats.requests - before.api
  const unauthorized = api.stats.unauthorized - before.unauthorized
  const failures: string[] = []
  if (ok !== calls) failures.push(`${calls - ok} of ${calls} calls did not end in 200 OK`)
  if (tokenRequests !== 1) failures.push(`expected 1 token request, saw ${tokenRequests}`)
  if (!scenario.expect401 && unauthorized > 0) failures.push(`expected no 401, saw ${unauthorized}`)
  if (scenario.expect401 && unauthorized === 0)
    failures.push('expected the revoked token to meet 401s, saw none')
  if (apiRequests !== calls + unauthorized) {
    failures.push(
      `expected one replay per 401: ${apiRequests} API requests for ${calls} calls and ${unauthorized} 401s`,
    )
  }
  return {
    client,
    scenario: scenario.name,
    setup: scenario.setup(calls),
    calls,
    ok,
    apiRequests,
    unauthorized,
    tokenRequests,
    durationMs,
    failures,
  }
}

/** A single redrawn status line on a terminal's stderr; nothing when stderr is not a terminal. */
function progressLine(io: CliIo): (text: string) => void {
  if (!io.stderr.isTTY) return () => {}
  return (text) => void io.stderr.write(`\r\x1b[K${text}`)
}

/** `a`, `a and b`, `a, b and c`. */
function listOf(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}
