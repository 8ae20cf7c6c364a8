import { createTokenProvider, type FetchLike } from '@tokenwell/core'
import { bench, describe } from 'vitest'

// The token endpoint is an in-process function here: these measure core alone.
let issued = 0
const fetch: FetchLike = async () =>
  Response.json({ access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: 3600 })
const options = { tokenEndpoint: 'https://as.test/token', clientId: 'svc', clientSecret: 's3cret', fetch }

const warm = createTokenProvider(options)
await warm.getToken()

describe('getToken()', () => {
  bench('cache hit', async () => {
    await warm.getToken()
  })

  bench('100 concurrent callers on a cold cache (one token request)', async () => {
    const cold = createTokenProvider(options)
    const before = issued
    await Promise.all(Array.from({ length: 100 }, () => cold.getToken()))
    if (issued !== before + 1) throw new Error(`expected 1 token request, saw ${issued - before}`)
    await cold.close()
  })
})
