import * as redis from '@tokenwell/redis'
import { expect, it } from 'vitest'

it('exports exactly the public API (a change here is a deliberate API change)', () => {
  expect(Object.keys(redis).sort()).toEqual(['RedisStoreError', 'createRedisTokenStore'])
})
