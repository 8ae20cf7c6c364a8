// CI runs the whole suite on Node 20, 22 and 24 (.ci/run) and says which one it meant in
// TOKENWELL_EXPECT_NODE: this proves each run really ran on that version.
import { expect, it } from 'vitest'

const expected = process.env['TOKENWELL_EXPECT_NODE']
if (!expected)
  console.info('test/node-version.test.ts: TOKENWELL_EXPECT_NODE is not set (only .ci/run sets it)')

it.skipIf(!expected)(`runs on the Node major version CI asked for (${expected ?? 'unset'})`, () => {
  expect(process.versions.node.split('.')[0]).toBe(expected)
})

it('runs on a Node version the packages support (engines: >=20.19)', () => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
  expect(major > 20 || (major === 20 && minor >= 19)).toBe(true)
})
