import { expect, it } from 'vitest'
import * as cli from '../src/index.js'

it('keeps its public exports deliberate', () => {
  expect(Object.keys(cli).sort()).toMatchSnapshot()
})
