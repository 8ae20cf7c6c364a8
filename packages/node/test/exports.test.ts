import { expect, it } from 'vitest'
import * as node from '../src/index.js'

it('keeps its public exports deliberate', () => {
  expect(Object.keys(node).sort()).toMatchSnapshot()
})
