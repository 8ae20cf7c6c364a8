import { expect, it } from 'vitest'
import * as core from '../src/index.js'

it('keeps its public exports deliberate', () => {
  expect(Object.keys(core).sort()).toMatchSnapshot()
})
