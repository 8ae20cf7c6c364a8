import { expect, it } from 'vitest'
import * as core from '../src/index.js'

it('keeps its public exports deliberate', () => {
  expect(Object.keys(core).sort()).toMatchSnapshot()
})

it('keeps the exports of @tokenwell/core/adapter deliberate', async () => {
  const adapter = await import('../src/adapter/index.js')
  expect(Object.keys(adapter).sort()).toMatchSnapshot()
})
