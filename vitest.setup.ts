import { server } from '@tokenwell/mock-server/msw'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { forgetRefreshFamilies } from './packages/core/src/provider/families.js'

// Every unit test runs behind msw: a request no handler answers fails the test.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
// the fake token endpoints of unit tests hand out the same refresh token strings (rt-0, rt-1, …)
// in every test: the links core keeps between the providers of a process start over with each
afterEach(() => forgetRefreshFamilies())
afterAll(() => server.close())
