import { createTokenProvider } from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import { oauth2 } from '@tokenwell/undici'
import { HttpResponse, http } from 'msw'
import { Dispatcher, MockAgent } from 'undici'
import { expect, it } from 'vitest'

const tokenEndpoint = 'https://as.test/token'
const api = 'https://api.test'

/** A dispatcher that records each handler it is given before the mock agent answers 200. */
class Recording extends Dispatcher {
  readonly handlers: Dispatcher.DispatchHandler[] = []
  readonly inner = new MockAgent()
  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.handlers.push(handler)
    return this.inner.dispatch(opts, handler)
  }
}

it('answers a handler in the interface it has, so undici converts no headers for an older one', async () => {
  server.use(
    http.post(tokenEndpoint, () =>
      HttpResponse.json({ access_token: 't1', token_type: 'Bearer', expires_in: 300 }),
    ),
  )
  const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
  const base = new Recording()
  base.inner.disableNetConnect()
  base.inner.get(api).intercept({ path: '/x' }).reply(200, 'ok').persist()
  const dispatcher = base.compose(oauth2(provider, { match: api }))

  const { statusCode, body } = await dispatcher.request({ origin: api, path: '/x', method: 'GET' })
  expect([statusCode, await body.text()]).toEqual([200, 'ok'])

  const got: unknown[] = []
  await new Promise((resolve) =>
    dispatcher.dispatch(
      { origin: api, path: '/x', method: 'GET' },
      {
        onRequestStart: () => {},
        onResponseStart: (_, status, headers) => got.push(status, headers['content-type'] ?? null),
        onResponseData: (_, chunk) => got.push(String(chunk)),
        onResponseEnd: resolve,
        onResponseError: resolve,
      },
    ),
  )
  expect(got).toEqual([200, null, 'ok'])
  const [older, current] = base.handlers
  expect([typeof older?.onHeaders, typeof older?.onRequestStart]).toEqual(['function', 'undefined'])
  expect([typeof current?.onHeaders, typeof current?.onRequestStart]).toEqual(['undefined', 'function'])
})
