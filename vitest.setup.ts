import { server } from '@tokenwell/mock-server/msw'
import { afterAll, afterEach, beforeAll } from 'vitest'

// Every unit test runs behind msw: a request no handler answers fails the test.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())
