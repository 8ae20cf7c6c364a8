import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Grant } from '../src/adapter/index.js'

// Who follows an authorized request's redirects: the adapter, hop by hop, or the fetch underneath.
const bearer = { authorization: 'Bearer t', dpop: false } as Grant
const dpop = { authorization: 'DPoP t', dpop: true } as Grant
const left = { authorization: undefined, dpop: false } as Grant

async function fresh() {
  vi.resetModules()
  return (await import('../src/adapter/follow.js')).followsRedirectsHere
}

afterEach(() => {
  vi.unstubAllGlobals()
  vi.resetModules()
})

describe('followsRedirectsHere', () => {
  it('outside a browser: a DPoP proof always, a Bearer token when the fetch is the caller’s own', async () => {
    const follows = await fresh()
    expect([
      follows(dpop, false),
      follows(bearer, true),
      follows(bearer, false),
      follows(left, true),
    ]).toEqual([true, true, false, false])
  })

  it.each(['document', 'WorkerGlobalScope'])(
    'in a browser (%s): a caller’s fetch ends in the browser’s, which drops the token itself and hides redirects',
    async (global) => {
      vi.stubGlobal(global, global === 'document' ? {} : () => {})
      const follows = await fresh()
      expect([follows(dpop, true), follows(bearer, true)]).toEqual([true, false])
    },
  )
})
