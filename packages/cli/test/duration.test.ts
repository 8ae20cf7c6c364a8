import { describe, expect, it } from 'vitest'
import { formatDuration } from '../src/duration.js'
import { parseDuration, UsageError } from '../src/index.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['250', 250],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms)
  })

  it.each(['', 'soon', '10 s', '-1s', '0', '0.1ms', '1d', '1e3'])('rejects %j naming the option', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(UsageError)
    expect(() => parseDuration(text, '--timeout')).toThrow(/^--timeout must be a duration/)
  })
})

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [2_500, '2.5s'],
    [2_000, '2s'],
    [125_000, '2m 5s'],
    [120_000, '2m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})
