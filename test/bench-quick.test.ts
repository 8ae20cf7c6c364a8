// A `--quick` bench run must never overwrite what a full run measured (README summary, bench/results/).
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { resultsTarget } from '../bench/src/report.js'

it('a quick run writes bench/results/quick/ and leaves the README alone; a full run writes both', () => {
  expect(resultsTarget({ quick: true })).toEqual({ dir: 'results/quick/', readme: false })
  expect(resultsTarget({ quick: false })).toEqual({ dir: 'results/', readme: true })
})

it('the quick results are gitignored, and the committed results are from a full run', () => {
  const gitignore = readFileSync(new URL('../.gitignore', import.meta.url), 'utf8')
  expect(gitignore.split('\n')).toContain('bench/results/quick/')
  const committed = JSON.parse(
    readFileSync(new URL('../bench/results/results.json', import.meta.url), 'utf8'),
  )
  expect(committed.meta.quick).toBe(false)
})
