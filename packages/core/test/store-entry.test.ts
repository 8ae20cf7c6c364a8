import fc from 'fast-check'
import { expect, it } from 'vitest'
import { isStoreEntry, type StoreEntry } from '../src/index.js'

// The guard every shared store (Redis, the browser's tabs) applies to what it reads back.

const entry: StoreEntry = {
  token: { accessToken: 'at', tokenType: 'Bearer', raw: {} },
  refreshAt: 2,
  obtainedAt: 1,
  fingerprint: 'ab',
}

it('accepts a StoreEntry, also after a round trip through JSON', () => {
  expect(isStoreEntry(entry)).toBe(true)
  expect(isStoreEntry(JSON.parse(JSON.stringify(entry)))).toBe(true)
})

it.each([
  ['null', null],
  ['a string', 'entry'],
  ['no fingerprint', { ...entry, fingerprint: undefined }],
  ['a refreshAt that is not a number', { ...entry, refreshAt: '2' }],
  ['an infinite obtainedAt', { ...entry, obtainedAt: Number.POSITIVE_INFINITY }],
  ['no token', { ...entry, token: null }],
  ['an access token that is not a string', { ...entry, token: { ...entry.token, accessToken: 1 } }],
  ['no token type', { ...entry, token: { accessToken: 'at', raw: {} } }],
  ['no raw response', { ...entry, token: { accessToken: 'at', tokenType: 'Bearer', raw: null } }],
])('rejects %s', (_, value) => {
  expect(isStoreEntry(value)).toBe(false)
})

it('never throws, whatever it is given', () => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      expect(typeof isStoreEntry(value)).toBe('boolean')
    }),
  )
})
