import { createTokenProvider } from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import { oauth2 } from '@tokenwell/undici'
import { HttpResponse, http } from 'msw'
import { type Dispatcher, MockAgent } from 'undici'
import { describe, expect, it } from 'vitest'

const tokenEndpoint = 'https://as.test/token'
const api = 'https://api.test'

/** A dispatcher whose inner end records the headers each dispatch carried, answering 200. */
function recording() {
  let hits = 0
  server.use(
    http.post(tokenEndpoint, () =>
      HttpResponse.json({ access_token: `secret-t${++hits}`, token_type: 'Bearer', expires_in: 300 }),
    ),
  )
  const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
  const seen: unknown[] = []
  const inner = new MockAgent()
  inner.disableNetConnect()
  const dispatcher = inner
    .compose((dispatch) => (opts, handler) => {
      seen.push(opts.headers)
      return dispatch(opts, handler)
    })
    .compose(oauth2(provider, { match: api }))
  inner.get(api).intercept({ path: /.*/ }).reply(200, 'ok').persist()
  return { dispatcher, seen, hits: () => hits }
}

async function send(dispatcher: Dispatcher, headers: unknown) {
  const { statusCode, body } = await dispatcher.request({
    origin: api,
    path: '/x',
    method: 'GET',
    headers,
  } as never)
  await body.dump()
  return statusCode
}

describe('oauth2(): undici’s header forms', () => {
  it.each([
    ['none', undefined, { authorization: 'Bearer secret-t1' }],
    ['a record', { accept: 'a/b' }, { accept: 'a/b', authorization: 'Bearer secret-t1' }],
    ['a flat list', ['accept', 'a/b'], ['accept', 'a/b', 'authorization', 'Bearer secret-t1']],
    [
      'an iterable of pairs',
      new Map([['accept', 'a/b']]),
      ['accept', 'a/b', 'authorization', 'Bearer secret-t1'],
    ],
  ])(
    'adds the token to %s, in a form undici takes, without changing the caller’s',
    async (_, headers, sent) => {
      const { dispatcher, seen } = recording()
      const before = headers instanceof Map ? [...headers] : structuredClone(headers)
      expect(await send(dispatcher, headers)).toBe(200)
      expect(seen).toEqual([sent])
      expect(headers instanceof Map ? [...headers] : headers).toEqual(before)
    },
  )

  it.each([
    ['a record', { Authorization: 'Basic mine' }],
    ['a flat list', ['AUTHORIZATION', 'Basic mine']],
    ['an iterable of pairs', new Map([['authorization', 'Basic mine']])],
  ])('leaves the caller’s own Authorization in %s alone, and asks for no token', async (_, headers) => {
    const { dispatcher, seen, hits } = recording()
    expect(await send(dispatcher, headers)).toBe(200)
    expect(seen).toEqual([headers])
    expect(hits()).toBe(0)
  })
})
