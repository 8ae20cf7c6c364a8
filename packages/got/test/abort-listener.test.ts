import { getEventListeners } from 'node:events'
import { dropGrantOnAbort } from '@tokenwell/core/adapter'
import { oauth2Hooks } from '@tokenwell/got'
import got from 'got'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fakeOAuth } from '../../../test/support/msw-oauth.js'

// Counts the calls of core's abort listener bookkeeping the got adapter makes per request
vi.mock('@tokenwell/core/adapter', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@tokenwell/core/adapter')>()
  return { ...actual, dropGrantOnAbort: vi.fn(actual.dropGrantOnAbort) }
})

describe('oauth2Hooks: the abort listener that keeps the token out of got’s AbortError', () => {
  afterEach(() => vi.mocked(dropGrantOnAbort).mockClear())

  it('costs a request without a signal nothing: no listener set, none to take off', async () => {
    const oauth = fakeOAuth()
    const api = got.extend(oauth2Hooks(oauth.provider), { prefixUrl: 'https://api.test' })
    await api.get('a')
    await api.get('b')
    expect(oauth.seen.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t1'])
    expect(vi.mocked(dropGrantOnAbort)).toHaveBeenCalledTimes(0)
  })

  it('sets one for a request with a signal and takes it off when the response came', async () => {
    const oauth = fakeOAuth()
    const api = got.extend(oauth2Hooks(oauth.provider), { prefixUrl: 'https://api.test' })
    const { signal } = new AbortController()
    await api.get('a', { signal })
    expect(oauth.seen.map((s) => s.authorization)).toEqual(['Bearer t1'])
    // beforeRequest sets the listener, afterResponse takes it off
    expect(vi.mocked(dropGrantOnAbort)).toHaveBeenCalledTimes(2)
    expect(vi.mocked(dropGrantOnAbort).mock.calls[0]?.[1]).toBe(signal)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })
})
