import { UsageError } from './usage-error.js'

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/**
 * Parses a duration such as `500ms`, `10s`, `1.5s`, `2m` or `1h` into milliseconds. A bare
 * number is milliseconds, as everywhere in tokenwell. Throws `UsageError` naming `option`.
 *
 * @example
 * parseDuration('10s', '--timeout') // 10_000
 */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  const amount = match ? Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1) : Number.NaN
  if (!Number.isFinite(amount) || amount < 1) {
    throw new UsageError(`${option} must be a duration such as 500ms, 10s or 2m (at least 1ms)`)
  }
  return Math.round(amount)
}

/** Formats milliseconds for people: `850ms`, `2.5s`, `2m 5s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))}s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1_000)
  return seconds === 0 ? `${minutes}m` : `${minutes}m ${seconds}s`
}
