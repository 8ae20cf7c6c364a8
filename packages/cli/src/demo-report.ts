import { formatDuration } from './duration.js'

/** What one scenario of one client did, counted at the servers. */
export interface ScenarioResult {
  readonly client: string
  readonly scenario: string
  /** What was done, for the report: `200 concurrent calls`. */
  readonly setup: string
  readonly calls: number
  /** Calls that ended with 200 OK. */
  readonly ok: number
  /** Requests the protected API received (replays included). */
  readonly apiRequests: number
  /** 401s the protected API answered. */
  readonly unauthorized: number
  /** POSTs to the token endpoint. */
  readonly tokenRequests: number
  readonly durationMs: number
  /** Checks that failed, as sentences; empty when all held. */
  readonly failures: readonly string[]
}

const count = (n: number) => n.toLocaleString('en-US')
const plural = (n: number, one: string) => `${count(n)} ${n === 1 ? one : `${one}s`}`

/** One report line: `✓ cold cache     200 concurrent calls     200/200 OK     1 token request   41ms`. */
export function formatScenario(result: ScenarioResult): string {
  const outcome = [`${count(result.ok)}/${count(result.calls)} OK`]
  if (result.unauthorized > 0) outcome.push(`${count(result.unauthorized)} × 401 replayed`)
  else if (result.scenario !== 'cold cache') outcome.push('no 401')
  const mark = result.failures.length === 0 ? '✓' : '✗'
  const columns = [
    `  ${mark} ${result.scenario.padEnd(14)}`,
    result.setup.padEnd(34),
    outcome.join(', ').padEnd(36),
    plural(result.tokenRequests, 'token request').padEnd(17),
    formatDuration(result.durationMs).padStart(6),
  ]
  return [columns.join(' '), ...result.failures.map((failure) => `      ✗ ${failure}`)].join('\n')
}

/** The closing summary: checks passed, calls made, 401s recovered, token requests, time. */
export function formatSummary(results: readonly ScenarioResult[], durationMs: number): string {
  const failed = results.filter((r) => r.failures.length > 0).length
  const sum = (pick: (r: ScenarioResult) => number) => results.reduce((total, r) => total + pick(r), 0)
  const head =
    failed === 0 ? `✓ all ${results.length} checks passed` : `✗ ${failed} of ${results.length} checks failed`
  return (
    `${head}: ${plural(
      sum((r) => r.calls),
      'call',
    )}, ` +
    `${count(sum((r) => r.unauthorized))} × 401 recovered, ` +
    `${plural(
      sum((r) => r.tokenRequests),
      'token request',
    )} in ${formatDuration(durationMs)}`
  )
}
