import { createDpop } from '@tokenwell/core/dpop'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/ky'
import fc from 'fast-check'
import ky from 'ky'
import { Pool } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedTokenProvider, type Recorder, startRecorder } from './support/recorder.js'

// Node's fetch connects through the dispatcher it is given (init.dispatcher, a Request's own): a Pool
// bound to another origin connects there whatever the URL names. The check matches the request undici
// creates to the URL the wrapper sent by its path: hostile paths (dot segments, characters fetch
// escapes, an empty query, a fragment) must neither slip past it nor refuse a request to its own origin.
describe('@tokenwell/fetch and @tokenwell/ky: a dispatcher bound to another origin, whatever the path', () => {
  let api: Recorder
  let elsewhere: Recorder
  let pools: Record<'api' | 'elsewhere', Pool>
  beforeAll(async () => {
    ;[api, elsewhere] = await Promise.all([startRecorder(), startRecorder()])
    pools = { api: new Pool(api.url), elsewhere: new Pool(elsewhere.url) }
  })
  afterAll(async () => {
    await Promise.all([pools.api.close(), pools.elsewhere.close()])
    await Promise.all([api.close(), elsewhere.close()])
  })

  const segment = fc.constantFrom(
    'a',
    '..',
    '.',
    '%2e',
    '%2E%2e',
    'é',
    'a b',
    '%41',
    '"<>`',
    '{x}',
    '',
    'ü?',
    '~',
  )
  const path = fc
    .tuple(
      fc.array(segment, { maxLength: 5 }),
      fc.constantFrom('', '?', '?q=1', '?q=a b', '?é'),
      fc.constantFrom('', '#f', '#'),
    )
    .map(([segments, query, hash]) => `/${segments.join('/')}${query}${hash}`)

  it('never reaches the other origin with the token; its own origin gets it (fetch and ky, Bearer and DPoP, init and Request)', async () => {
    const providers = [fixedTokenProvider(), fixedTokenProvider('tok-SECRET', { dpop: createDpop() })]
    const fetches: ((input: string | Request, init?: RequestInit) => Promise<Response>)[] = [
      ...providers.map((provider) => withOAuth2(provider, { match: api.url })),
      // ky hands the dispatcher to fetch: its hooks' fetch is checked the same way
      ...providers.map((provider) => ky.create({ retry: 0, ...oauth2Hooks(provider, { match: api.url }) })),
    ]
    await fc.assert(
      fc.asyncProperty(path, fc.nat(3), fc.boolean(), async (p, which, asRequest) => {
        api.requests.length = 0
        elsewhere.requests.length = 0
        const authFetch = fetches[which]!
        const send = (dispatcher: Pool) => {
          const init = { dispatcher } as RequestInit
          return asRequest ? authFetch(new Request(api.url + p, init)) : authFetch(api.url + p, init)
        }
        const refused = await send(pools.elsewhere).then(
          (r) => r.status,
          (e: unknown) => e,
        )
        // what the call ended in, and what the other origin received, in the message if it fails
        expect({
          refused: String((refused as Error).cause ?? refused),
          received: elsewhere.requests,
        }).toEqual({
          refused: expect.stringContaining(`connects this request to ${elsewhere.url}`),
          received: [],
        })
        expect((await send(pools.api)).status).toBe(200)
        expect(api.requests.map((r) => r.authorization?.endsWith('tok-SECRET'))).toEqual([true])
        // nothing is left awaited: the caller's own request with that value, to that path elsewhere, goes
        const authorization = api.requests[0]!.authorization!
        const own = await fetch(elsewhere.url + p, {
          headers: { authorization },
          dispatcher: pools.elsewhere,
        } as RequestInit)
        expect(own.status).toBe(200)
        expect(elsewhere.requests.map((r) => r.authorization)).toEqual([authorization])
      }),
      { numRuns: 200 },
    )
    await Promise.all(providers.map((p) => p.close()))
  })
})
